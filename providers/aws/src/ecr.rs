//! ECR at the edge: repositories from a paginated DescribeRepositories into decom's
//! model; their images (DescribeImages) and tags are facts, a call each per
//! repository; DeleteRepository (with `force` only when the plan says so); their
//! archive descriptions, which hold the image list.

use std::collections::BTreeMap;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::{ImageDetail, Repository};
use decom_provider::{
    Action, Details, EcrImage, EcrRepository, ErrorKind, Operation, ProviderError, Resource,
    ResourceKey, ResourceType,
};
use serde_json::{Value, json};

use crate::calls::{api_error, bounded};
use crate::discover::{Denials, Found};
use crate::text::timestamp;

/// Per-repository calls in flight per region.
const CONCURRENCY: usize = 8;

pub(crate) async fn discover(
    client: &Client,
    region: &str,
    denials: &Denials,
    facts: bool,
) -> Result<Found, ProviderError> {
    let Some(repositories) = denials.unless_denied(repositories(client, region, None).await)?
    else {
        return Ok(Found::default());
    };
    if !facts {
        return Ok(Found {
            resources: repositories,
            lb_arns: Vec::new(),
        });
    }
    let read = bounded(repositories, CONCURRENCY, |mut repository| {
        let (client, region) = (client.clone(), region.to_string());
        async move {
            read_facts(&client, &region, &mut repository, true, true).await?;
            Ok(repository)
        }
    })
    .await;
    let Some(resources) = denials.unless_denied(read)? else {
        return Ok(Found::default());
    };
    Ok(Found {
        resources,
        lb_arns: Vec::new(),
    })
}

/// The region's repositories, or the one named `name`.
async fn repositories(
    client: &Client,
    region: &str,
    name: Option<&str>,
) -> Result<Vec<Resource>, ProviderError> {
    let listed: Vec<Repository> = client
        .describe_repositories()
        .set_repository_names(name.map(|n| vec![n.to_string()]))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ecr:DescribeRepositories", Some(region), e))?;
    Ok(listed.iter().map(|r| repository_model(region, r)).collect())
}

fn repository_model(region: &str, repository: &Repository) -> Resource {
    let name = repository.repository_name().unwrap_or_default().to_string();
    Resource {
        id: name.clone(),
        name,
        region: region.to_string(),
        tags: BTreeMap::new(),
        details: Details::EcrRepository(EcrRepository {
            arn: repository.repository_arn().unwrap_or_default().to_string(),
            uri: repository.repository_uri().unwrap_or_default().to_string(),
            created: repository.created_at().map(timestamp),
            images: Vec::new(),
        }),
    }
}

/// Reads the repository's images and tags into it, as asked.
pub(crate) async fn read_facts(
    client: &Client,
    region: &str,
    resource: &mut Resource,
    images: bool,
    tags: bool,
) -> Result<(), ProviderError> {
    let name = resource.id.clone();
    let Details::EcrRepository(repository) = &mut resource.details else {
        return Ok(());
    };
    if images {
        repository.images = self::images(client, region, &name).await?;
    }
    if tags {
        let arn = repository.arn.clone();
        resource.tags = self::tags(client, region, &arn).await?;
    }
    Ok(())
}

async fn images(client: &Client, region: &str, name: &str) -> Result<Vec<EcrImage>, ProviderError> {
    let details: Vec<ImageDetail> = client
        .describe_images()
        .repository_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ecr:DescribeImages", Some(region), e))?;
    let mut images: Vec<EcrImage> = details
        .iter()
        .map(|d| {
            let mut tags = d.image_tags().to_vec();
            tags.sort();
            EcrImage {
                digest: d.image_digest().unwrap_or_default().to_string(),
                tags,
                pushed: d.image_pushed_at().map(timestamp),
                last_pull: d.last_recorded_pull_time().map(timestamp),
                size_bytes: d.image_size_in_bytes(),
            }
        })
        .collect();
    images.sort_by(|a, b| a.digest.cmp(&b.digest));
    Ok(images)
}

async fn tags(
    client: &Client,
    region: &str,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| api_error("ecr:ListTagsForResource", Some(region), e))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    let force = match (&op.action, op.target.ty) {
        (Action::AwaitDeletion, _) => return Ok(()),
        (Action::Delete, ResourceType::EcrRepository) => false,
        (Action::DeleteWithImages, ResourceType::EcrRepository) => true,
        _ => return Err(crate::unsupported(op)),
    };
    client
        .delete_repository()
        .repository_name(&op.target.id)
        .force(force)
        .send()
        .await
        .map(drop)
        .map_err(|e| api_error("ecr:DeleteRepository", Some(&op.target.region), e))
}

/// Describes one repository for the archive: the model with its image list
/// (digests, tags, push and last pull dates) and tags; `None` if it is gone.
pub(crate) async fn describe(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<Value>, ProviderError> {
    if target.ty != ResourceType::EcrRepository {
        return Err(crate::unsupported_describe(target));
    }
    let region = target.region.as_str();
    let mut found = match repositories(client, region, Some(&target.id)).await {
        Ok(found) => found,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(mut repository) = found.pop() else {
        return Ok(None);
    };
    match read_facts(client, region, &mut repository, true, true).await {
        Ok(()) => Ok(Some(json!({ "model": repository }))),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
