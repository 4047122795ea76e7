//! ELBv2 facts for a scoped discovery: a load balancer's deletion protection and
//! listeners, a listener's rules, a target group's target health, and tags, for the
//! resources asked for; listeners and rules found on the way come with the facts
//! `decom_provider::unread::child_facts` gives them.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_elasticloadbalancingv2::Client;
use decom_provider::{
    Details, Fact, Facts, ProviderError, Resource, ResourceKey, ResourceType, unread,
};

use super::{
    CONCURRENCY, lb_attributes, listener_resource, listeners, rule_resource, rules, tags,
    target_health,
};
use crate::calls::{bounded, unless_gone};
use crate::facts::Wanted;

pub(crate) async fn read_facts(
    client: &Client,
    region: &str,
    wanted: Vec<Wanted>,
    types: &BTreeSet<ResourceType>,
) -> Result<Vec<Resource>, ProviderError> {
    // What is asked of each resource, the found children included.
    let mut asked: BTreeMap<ResourceKey, Facts> = BTreeMap::new();
    let mut resources: BTreeMap<ResourceKey, Resource> = BTreeMap::new();
    for (resource, facts) in wanted {
        asked.insert(resource.key(), facts);
        resources.insert(resource.key(), resource);
    }
    let mut gone: BTreeSet<ResourceKey> = BTreeSet::new();

    // Listeners first: they may ask for rules and tags of their own.
    let with = |fact: Fact, asked: &BTreeMap<ResourceKey, Facts>| -> Vec<ResourceKey> {
        asked
            .iter()
            .filter(|(_, f)| f.contains(&fact))
            .map(|(k, _)| k.clone())
            .collect()
    };
    let balancers = with(Fact::Listeners, &asked);
    let found = bounded(balancers.clone(), CONCURRENCY, |lb| {
        let (client, region) = (client.clone(), region.to_string());
        async move { unless_gone(listeners(&client, &region, Some(&lb.id), None).await) }
    })
    .await?;
    for (lb, listeners) in balancers.into_iter().zip(found) {
        let Some(listeners) = listeners else {
            gone.insert(lb);
            continue;
        };
        let parent = asked.get(&lb).cloned().unwrap_or_default();
        let mut inherited = unread::child_facts(ResourceType::LbListener, &parent, types);
        if !types.contains(&ResourceType::LbListener) {
            // The rules come with the balancer's listeners.
            inherited.insert(Fact::Rules);
        }
        for listener in &listeners {
            let resource = listener_resource(region, listener);
            asked.insert(resource.key(), inherited.clone());
            resources.insert(resource.key(), resource);
        }
    }
    let listener_keys = with(Fact::Rules, &asked);
    let found = bounded(listener_keys.clone(), CONCURRENCY, |listener| {
        let (client, region) = (client.clone(), region.to_string());
        async move { unless_gone(rules(&client, &region, Some(&listener.id), None).await) }
    })
    .await?;
    for (listener, rules) in listener_keys.into_iter().zip(found) {
        let Some(rules) = rules else {
            gone.insert(listener);
            continue;
        };
        let parent = asked.get(&listener).cloned().unwrap_or_default();
        let inherited = unread::child_facts(ResourceType::LbListenerRule, &parent, types);
        for rule in rules.iter().filter(|r| !r.is_default().unwrap_or(false)) {
            let resource = rule_resource(region, &listener.id, rule);
            asked.insert(resource.key(), inherited.clone());
            resources.insert(resource.key(), resource);
        }
    }

    let protected = with(Fact::Protection, &asked);
    let attributes = bounded(protected.clone(), CONCURRENCY, |lb| {
        let (client, region) = (client.clone(), region.to_string());
        async move { unless_gone(lb_attributes(&client, &region, &lb.id).await) }
    })
    .await?;
    for (lb, attributes) in protected.into_iter().zip(attributes) {
        match (attributes, resources.get_mut(&lb).map(|r| &mut r.details)) {
            (None, _) => {
                gone.insert(lb);
            }
            (Some(attributes), Some(Details::Lb(details))) => {
                details.deletion_protection = attributes.iter().any(|a| {
                    a.key() == Some("deletion_protection.enabled") && a.value() == Some("true")
                });
            }
            _ => {}
        }
    }

    let groups = with(Fact::Targets, &asked);
    let health = bounded(groups.clone(), CONCURRENCY, |tg| {
        let (client, region) = (client.clone(), region.to_string());
        async move { unless_gone(target_health(&client, &region, &tg.id).await) }
    })
    .await?;
    for (tg, targets) in groups.into_iter().zip(health) {
        match (targets, resources.get_mut(&tg).map(|r| &mut r.details)) {
            (None, _) => {
                gone.insert(tg);
            }
            (Some(targets), Some(Details::LbTargetGroup(details))) => details.targets = targets,
            _ => {}
        }
    }

    let tagged: Vec<String> = with(Fact::Tags, &asked)
        .into_iter()
        .filter(|key| !gone.contains(key))
        .map(|key| key.id)
        .collect();
    if !tagged.is_empty() {
        let read = tags(client, region, tagged).await?;
        for resource in resources.values_mut() {
            if asked
                .get(&resource.key())
                .is_some_and(|f| f.contains(&Fact::Tags))
            {
                resource.tags = read.get(&resource.id).cloned().unwrap_or_default();
            }
        }
    }
    Ok(resources
        .into_iter()
        .filter(|(key, _)| !gone.contains(key))
        .map(|(_, resource)| resource)
        .collect())
}
