//! The second phase of a scoped discovery: the facts the listings leave out
//! (`decom_provider::unread`) for the resources the engine asks for, with the same
//! per-resource calls a full discovery makes for every resource, one job per
//! service and region.

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    Fact, FactRequest, Facts, Inventory, ProviderError, Resource, ResourceType, Service, unread,
};
use futures_util::{StreamExt, TryStreamExt};

use crate::AwsProvider;
use crate::calls::{bounded, unless_gone};
use crate::discover::Denials;

/// Jobs (service and region) running at once, as in a full discovery.
const CONCURRENT_JOBS: usize = 4;
/// Per-resource calls in flight per job.
const CONCURRENCY: usize = 8;
/// IAM's rate limits are account-wide and low.
const IAM_CONCURRENCY: usize = 4;

/// One resource to read, as the inventory has it, with the facts wanted of it.
pub(crate) type Wanted = (Resource, Facts);

pub(crate) async fn read_facts(
    provider: &AwsProvider,
    inventory: &mut Inventory,
    wanted: &FactRequest,
) -> Result<(), ProviderError> {
    let types: BTreeSet<ResourceType> = inventory.types.iter().copied().collect();
    let mut jobs: BTreeMap<(Service, String), Vec<Wanted>> = BTreeMap::new();
    for resource in &inventory.resources {
        if let Some(facts) = wanted.get(&resource.key()) {
            jobs.entry((resource.ty().service(), resource.region.clone()))
                .or_default()
                .push((resource.clone(), facts.clone()));
        }
    }
    let types = &types;
    // As in a full discovery, a refused call does not stop the others, so that one
    // run names every missing permission.
    let denials = Denials::default();
    let denials = &denials;
    let read: Vec<Option<Vec<Resource>>> = futures_util::stream::iter(jobs)
        .map(|((service, region), wanted)| async move {
            let read = match service {
                Service::Ec2 => {
                    let client = provider.region_clients(&region).ec2;
                    read_instances(&client, &region, wanted).await
                }
                Service::Elbv2 => {
                    let client = provider.region_clients(&region).elbv2;
                    crate::elbv2::read_facts(&client, &region, wanted, types).await
                }
                Service::Iam => read_policies(provider.iam(), wanted).await,
                Service::Logs => {
                    let client = provider.region_clients(&region).logs;
                    read_log_groups(&client, &region, wanted).await
                }
                Service::Cloudwatch => {
                    let client = provider.region_clients(&region).cloudwatch;
                    read_alarms(&client, &region, wanted).await
                }
                Service::Ecr => {
                    let client = provider.region_clients(&region).ecr;
                    read_repositories(&client, &region, wanted).await
                }
                // Its listings carry every fact (`Fact::unlisted`): nothing to read.
                Service::Autoscaling | Service::Ecs | Service::Route53 => {
                    Ok(wanted.into_iter().map(|(r, _)| r).collect())
                }
            };
            denials.unless_denied(read)
        })
        .buffer_unordered(CONCURRENT_JOBS)
        .try_collect()
        .await?;
    if let Some(denied) = denials.clone().into_error() {
        return Err(denied);
    }
    let mut current = Inventory::new(inventory.account_id.clone(), inventory.regions.clone());
    current.types = inventory.types.clone();
    current.resources = read.into_iter().flatten().flatten().collect();
    unread::read_from(inventory, &current, wanted);
    Ok(())
}

/// Termination protection, one DescribeInstanceAttribute per instance.
async fn read_instances(
    client: &aws_sdk_ec2::Client,
    region: &str,
    wanted: Vec<Wanted>,
) -> Result<Vec<Resource>, ProviderError> {
    let read = bounded(wanted, CONCURRENCY, |(mut resource, facts)| {
        let (client, region) = (client.clone(), region.to_string());
        async move {
            if facts.contains(&Fact::Protection) {
                let protected = crate::ec2::termination_protection(&client, &region, &resource.id);
                let Some(protected) = unless_gone(protected.await)? else {
                    return Ok(None);
                };
                if let decom_provider::Details::Instance(instance) = &mut resource.details {
                    instance.termination_protection = protected;
                }
            }
            Ok(Some(resource))
        }
    })
    .await?;
    Ok(read.into_iter().flatten().collect())
}

/// A customer policy's tags, one ListPolicyTags each.
async fn read_policies(
    client: &aws_sdk_iam::Client,
    wanted: Vec<Wanted>,
) -> Result<Vec<Resource>, ProviderError> {
    let read = bounded(wanted, IAM_CONCURRENCY, |(mut resource, facts)| {
        let client = client.clone();
        async move {
            if facts.contains(&Fact::Tags) {
                let Some(tags) = unless_gone(crate::iam::policy_tags(&client, &resource.id).await)?
                else {
                    return Ok(None);
                };
                resource.tags = tags;
            }
            Ok(Some(resource))
        }
    })
    .await?;
    Ok(read.into_iter().flatten().collect())
}

/// A log group's tags, one ListTagsForResource each.
async fn read_log_groups(
    client: &aws_sdk_cloudwatchlogs::Client,
    region: &str,
    wanted: Vec<Wanted>,
) -> Result<Vec<Resource>, ProviderError> {
    let read = bounded(wanted, CONCURRENCY, |(mut resource, facts)| {
        let (client, region) = (client.clone(), region.to_string());
        async move {
            if facts.contains(&Fact::Tags) {
                let arn = match &resource.details {
                    decom_provider::Details::CloudwatchLogGroup(group) => group.arn.clone(),
                    _ => String::new(),
                };
                let Some(tags) = unless_gone(crate::logs::tags(&client, &region, &arn).await)?
                else {
                    return Ok(None);
                };
                resource.tags = tags;
            }
            Ok(Some(resource))
        }
    })
    .await?;
    Ok(read.into_iter().flatten().collect())
}

/// An alarm's tags, one ListTagsForResource each.
async fn read_alarms(
    client: &aws_sdk_cloudwatch::Client,
    region: &str,
    wanted: Vec<Wanted>,
) -> Result<Vec<Resource>, ProviderError> {
    let read = bounded(wanted, CONCURRENCY, |(mut resource, facts)| {
        let (client, region) = (client.clone(), region.to_string());
        async move {
            if facts.contains(&Fact::Tags) {
                let tags = crate::cloudwatch::resource_tags(&client, &region, &resource);
                let Some(tags) = unless_gone(tags.await)? else {
                    return Ok(None);
                };
                resource.tags = tags;
            }
            Ok(Some(resource))
        }
    })
    .await?;
    Ok(read.into_iter().flatten().collect())
}

/// A repository's images (DescribeImages) and tags (ListTagsForResource).
async fn read_repositories(
    client: &aws_sdk_ecr::Client,
    region: &str,
    wanted: Vec<Wanted>,
) -> Result<Vec<Resource>, ProviderError> {
    let read = bounded(wanted, CONCURRENCY, |(mut resource, facts)| {
        let (client, region) = (client.clone(), region.to_string());
        async move {
            let (images, tags) = (facts.contains(&Fact::Images), facts.contains(&Fact::Tags));
            let read = crate::ecr::read_facts(&client, &region, &mut resource, images, tags);
            if unless_gone(read.await)?.is_none() {
                return Ok(None);
            }
            Ok(Some(resource))
        }
    })
    .await?;
    Ok(read.into_iter().flatten().collect())
}
