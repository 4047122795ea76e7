//! Scoped discovery, between discovery and selection: the listings first (a call per
//! page), then the facts AWS gives only per resource — protection flags, target
//! health, tags, listeners, rules — for just the resources that can change the plan,
//! read frontier by frontier until the plan stands. `discover`, `audit` and anything
//! that writes a snapshot read everything instead (`Provider::discover`).
//!
//! What is read, and why each fact can matter (docs/architecture.md):
//! 1. every fact a selector reads: the tags of each resource a selector with `tags`
//!    matches by everything else, and the listeners (and rules) of every load
//!    balancer when a selector can match a listener (or a rule) not listed yet;
//! 2. the plan's closure: every fact of the resources the plan selects or changes,
//!    of what they reference and of what references them; the listeners and rules of
//!    the load balancers a target group in it names (`LoadBalancerArns`: who
//!    forwards to it) and the target groups a load balancer in it routes to;
//! 3. the tags of every resource when the plan orphans a log group by the naming
//!    convention (its service name must be carried by removed resources only);
//! 4. the listeners and rules of same-named load balancers, whose addresses are
//!    qualified by what else the account holds.
//!
//! A target group's registered instances are read only for the groups in the closure:
//! a registration never blocks a deletion nor counts as use (`decom_provider::rules`,
//! `usage`), so a group outside the closure cannot change the plan through it.

use std::collections::BTreeSet;

use decom_provider::{Details, Resource};
use decom_provider::{
    DiscoveryProgress, DiscoveryRequest, Fact, FactRequest, Inventory, InventoryIndex, Provider,
    ProviderError, RefKind, ResourceId, ResourceKey, ResourceType,
};

use crate::plan::{PlanOptions, build_plan};
use crate::select::select;
use crate::spec::{Selector, Spec};

/// The inventory the spec's plan needs: the listings, then the facts
/// [`facts_to_read`] names, until it names none. The plan built on it is the plan a
/// full discovery gives.
pub async fn discover_for_spec(
    provider: &dyn Provider,
    spec: &Spec,
    options: &PlanOptions,
    request: &DiscoveryRequest,
    progress: &dyn DiscoveryProgress,
) -> Result<Inventory, ProviderError> {
    let mut inventory = provider.discover_listings(request, progress).await?;
    loop {
        let wanted = facts_to_read(spec, &inventory, options);
        if wanted.is_empty() {
            return Ok(inventory);
        }
        provider.read_facts(&mut inventory, &wanted).await?;
        let unread = wanted
            .iter()
            .find(|(key, facts)| facts.iter().any(|f| !inventory.has_read(key, *f)));
        if let Some((key, facts)) = unread {
            // A provider that answers without reading would loop here for ever.
            return Err(ProviderError::new(
                "discovery",
                Some(&key.region),
                "FactNotRead",
                format!("the provider did not read {facts:?} of {key}"),
            ));
        }
    }
}

/// The unread facts that can change the plan of `spec` on `inventory`: empty when
/// the plan on `inventory` is the plan on the fully read account.
pub fn facts_to_read(spec: &Spec, inventory: &Inventory, options: &PlanOptions) -> FactRequest {
    let mut wanted = Wanted {
        inventory,
        request: FactRequest::new(),
    };
    if inventory.is_complete() {
        return wanted.request;
    }
    let index = InventoryIndex::new(inventory);
    let selectors: Vec<&Selector> = spec
        .decommission
        .absent
        .iter()
        .chain(&spec.decommission.keep)
        .collect();
    for selector in &selectors {
        wanted.for_selector(selector);
    }
    let resolved = select(spec, inventory);
    let plan = build_plan(inventory, &resolved.selection, options);
    let seeds: BTreeSet<ResourceId> = resolved
        .selection
        .targets
        .keys()
        .cloned()
        .chain(plan.steps.iter().map(|s| s.key()))
        .filter_map(|key| index.id(&key))
        .collect();
    wanted.closure(&index, &seeds);
    let convention_orphans = plan
        .orphans
        .iter()
        .any(|o| o.ty == ResourceType::CloudwatchLogGroup.as_str());
    if convention_orphans {
        for resource in &inventory.resources {
            if resource.ty() != ResourceType::CloudwatchLogGroup {
                wanted.add(resource, Fact::Tags);
            }
        }
    }
    wanted.same_named_listeners(&index);
    wanted.request
}

struct Wanted<'i> {
    inventory: &'i Inventory,
    request: FactRequest,
}

impl<'i> Wanted<'i> {
    /// Asks for `fact` of `resource` if it is unread.
    fn add(&mut self, resource: &Resource, fact: Fact) {
        let key = resource.key();
        if !self.inventory.has_read(&key, fact) {
            self.request.entry(key).or_default().insert(fact);
        }
    }

    fn add_all(&mut self, resource: &Resource) {
        let key = resource.key();
        if let Some(facts) = self.inventory.unread.get(&key) {
            self.request.entry(key).or_default().extend(facts);
        }
    }

    /// 1: what the selector reads to decide.
    fn for_selector(&mut self, selector: &Selector) {
        for resource in &self.inventory.resources {
            if !selector.tags.is_empty() && selector.matches_untagged(resource) {
                self.add(resource, Fact::Tags);
            }
            match resource.ty() {
                ResourceType::Lb
                    if selector.may_match_unlisted(ResourceType::LbListener, &resource.region)
                        || selector
                            .may_match_unlisted(ResourceType::LbListenerRule, &resource.region) =>
                {
                    self.add(resource, Fact::Listeners);
                }
                ResourceType::LbListener
                    if selector
                        .may_match_unlisted(ResourceType::LbListenerRule, &resource.region) =>
                {
                    self.add(resource, Fact::Rules);
                }
                _ => {}
            }
        }
    }

    /// 2: every fact of the seeds and their neighbours, and who forwards to a target
    /// group among them.
    fn closure(&mut self, index: &InventoryIndex<'i>, seeds: &BTreeSet<ResourceId>) {
        let mut reached: BTreeSet<ResourceId> = seeds.clone();
        for &seed in seeds {
            reached.extend(
                index
                    .references_by_id(seed)
                    .iter()
                    .filter_map(|r| index.id(&r.to)),
            );
            reached.extend(index.referrers_by_id(seed).iter().map(|r| r.from));
        }
        for &id in &reached {
            let resource = index.resource(id);
            self.add_all(resource);
            match &resource.details {
                Details::LbTargetGroup(tg) => {
                    for lb in &tg.load_balancers {
                        if let Some(lb) = index.find(ResourceType::Lb, &resource.region, lb) {
                            self.listeners_and_rules(index, lb, false);
                        }
                    }
                }
                Details::Lb(_) => self.listeners_and_rules(index, id, true),
                _ => {}
            }
        }
    }

    /// The listeners and rules of load balancer `lb`; with `routes`, every fact of
    /// them and of the target groups they forward to.
    fn listeners_and_rules(&mut self, index: &InventoryIndex<'i>, lb: ResourceId, routes: bool) {
        self.add(index.resource(lb), Fact::Listeners);
        for listener in children(index, lb, &RefKind::ListenerOf) {
            self.add(index.resource(listener), Fact::Rules);
            if !routes {
                continue;
            }
            let rules = children(index, listener, &RefKind::RuleOf);
            for id in std::iter::once(listener).chain(rules) {
                let resource = index.resource(id);
                self.add_all(resource);
                for to in index.references_by_id(id) {
                    if to.kind == RefKind::ForwardsTo
                        && let Some(tg) = index.get(&to.to)
                    {
                        self.add_all(tg);
                    }
                }
            }
        }
    }

    /// 4: a listener's address is its load balancer's name and port, qualified when
    /// another region has a balancer of that name: list theirs too.
    fn same_named_listeners(&mut self, index: &InventoryIndex<'i>) {
        let lb_name = |key: &ResourceKey| -> Option<String> {
            match key.ty {
                ResourceType::Lb => index.get(key).map(|r| r.name.clone()),
                ResourceType::LbListener => match index.get(key).map(|r| &r.details) {
                    Some(Details::LbListener(l)) => index
                        .find(ResourceType::Lb, &key.region, &l.load_balancer)
                        .map(|lb| index.resource(lb).name.clone()),
                    _ => None,
                },
                _ => None,
            }
        };
        let names: BTreeSet<String> = self
            .request
            .iter()
            .filter(|(_, facts)| facts.contains(&Fact::Listeners) || facts.contains(&Fact::Rules))
            .filter_map(|(key, _)| lb_name(key))
            .collect();
        if names.is_empty() {
            return;
        }
        for resource in &self.inventory.resources {
            let fact = match resource.ty() {
                ResourceType::Lb => Fact::Listeners,
                ResourceType::LbListener => Fact::Rules,
                _ => continue,
            };
            if lb_name(&resource.key()).is_some_and(|n| names.contains(&n)) {
                self.add(resource, fact);
            }
        }
    }
}

/// The resources that hold a link of `kind` to `parent`: a balancer's listeners, a
/// listener's rules.
fn children(index: &InventoryIndex<'_>, parent: ResourceId, kind: &RefKind) -> Vec<ResourceId> {
    index
        .referrers_by_id(parent)
        .iter()
        .filter(|r| &r.kind == kind)
        .map(|r| r.from)
        .collect()
}
