//! Amazon ECS at the edge: clusters, services and task definition revisions from SDK
//! shapes into decom's model; UpdateService (scale to 0), DeleteService,
//! DeregisterTaskDefinition, DeleteTaskDefinitions, DeleteCluster. Their archive
//! descriptions are in `archive.rs`.
//!
//! Discovery makes the fewest calls ECS allows: ListClusters and one DescribeClusters
//! per 100 clusters; per cluster ListServices and one DescribeServices per 10
//! services, ListTasks and DescribeTasks (100 a call) only while tasks run (their
//! interfaces), ListContainerInstances and DescribeContainerInstances (100 a call)
//! only while instances are registered; ListTaskDefinitions for ACTIVE and INACTIVE
//! revisions, then one DescribeTaskDefinition per revision (ECS has no batch form).
//! The per-resource calls take the ids to describe, so that a caller can narrow them.

mod archive;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    ClusterField, LogDriver, ServiceField, TaskDefinitionField, TaskDefinitionStatus,
};
use decom_provider::{
    Action, Details, EcsCluster, EcsService, EcsTaskDefinition, ErrorKind, Operation,
    ProviderError, Resource, ResourceType, role_name,
};

use crate::calls::{api_error, bounded};

use crate::discover::{Denials, Found};
use crate::text::timestamp;
pub(crate) use archive::describe;

/// DescribeTaskDefinition calls in flight per region (one per revision).
const CONCURRENCY: usize = 8;
/// Items per call of the describe calls that take a list.
const CLUSTERS_PER_CALL: usize = 100;
const SERVICES_PER_CALL: usize = 10;
const TASKS_PER_CALL: usize = 100;
const INSTANCES_PER_CALL: usize = 100;

pub(crate) async fn discover(
    client: &Client,
    region: &str,
    types: &BTreeSet<ResourceType>,
    denials: &Denials,
) -> Result<Found, ProviderError> {
    let mut resources = Vec::new();
    let wants_clusters = types.contains(&ResourceType::EcsCluster)
        || types.contains(&ResourceType::EcsService)
        || types.contains(&ResourceType::NetworkInterface);
    if wants_clusters
        && let Some(arns) = denials.unless_denied(cluster_arns(client, region).await)?
    {
        let Some(clusters) =
            denials.unless_denied(describe_clusters(client, region, &arns).await)?
        else {
            return Ok(Found::default());
        };
        for (cluster, registered) in clusters {
            match denials
                .unless_denied(cluster_services(client, region, &cluster, registered).await)?
            {
                Some(with_cluster) => resources.extend(with_cluster),
                None => resources.push(cluster),
            }
        }
    }
    if types.contains(&ResourceType::EcsTaskDefinition)
        && let Some(arns) = denials.unless_denied(task_definition_arns(client, region).await)?
        && let Some(defs) =
            denials.unless_denied(describe_task_definitions(client, region, arns).await)?
    {
        resources.extend(defs);
    }
    Ok(Found {
        resources,
        lb_arns: Vec::new(),
    })
}

async fn cluster_arns(client: &Client, region: &str) -> Result<Vec<String>, ProviderError> {
    client
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ecs:ListClusters", Some(region), e))
}

/// The clusters named by `arns`, with their statistics and tags, each with its
/// count of registered container instances; the instances and standalone tasks are
/// filled in by [`cluster_services`].
pub(crate) async fn describe_clusters(
    client: &Client,
    region: &str,
    arns: &[String],
) -> Result<Vec<(Resource, u32)>, ProviderError> {
    let mut out = Vec::new();
    for chunk in arns.chunks(CLUSTERS_PER_CALL) {
        let answer = client
            .describe_clusters()
            .set_clusters(Some(chunk.to_vec()))
            .include(ClusterField::Tags)
            .send()
            .await
            .map_err(|e| api_error("ecs:DescribeClusters", Some(region), e))?;
        out.extend(
            answer
                .clusters()
                .iter()
                .filter_map(|c| cluster_resource(region, c)),
        );
    }
    Ok(out)
}

/// An ACTIVE cluster as decom models it, with its count of registered container
/// instances; `None` for an INACTIVE one.
pub(crate) fn cluster_resource(
    region: &str,
    c: &aws_sdk_ecs::types::Cluster,
) -> Option<(Resource, u32)> {
    let arn = c.cluster_arn()?;
    if c.status() == Some("INACTIVE") {
        return None;
    }
    let running = (c.running_tasks_count() + c.pending_tasks_count()).max(0) as u32;
    let registered = c.registered_container_instances_count().max(0) as u32;
    let cluster = Resource {
        id: arn.to_string(),
        name: c.cluster_name().unwrap_or_default().to_string(),
        region: region.to_string(),
        tags: tags(c.tags()),
        details: Details::EcsCluster(EcsCluster {
            status: c.status().unwrap_or_default().to_string(),
            container_instances: Vec::new(),
            standalone_tasks: 0,
            running_tasks: running,
        }),
    };
    Some((cluster, registered))
}

/// The services of `cluster`, then the cluster itself with its container instances
/// (`registered` of them) and standalone tasks.
async fn cluster_services(
    client: &Client,
    region: &str,
    cluster: &Resource,
    registered: u32,
) -> Result<Vec<Resource>, ProviderError> {
    let cluster_arn = cluster.id.clone();
    let arns: Vec<String> = client
        .list_services()
        .cluster(&cluster_arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ecs:ListServices", Some(region), e))?;
    let mut services = describe_services(client, region, &cluster_arn, &arns).await?;
    let Details::EcsCluster(details) = &cluster.details else {
        return Ok(services);
    };
    // A task's interface and service from DescribeTasks, only while tasks run.
    let mut by_service: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut standalone = 0u32;
    if details.running_tasks > 0 {
        for task in tasks(client, region, &cluster_arn).await? {
            match task.0.strip_prefix("service:") {
                Some(service) => by_service
                    .entry(service.to_string())
                    .or_default()
                    .extend(task.1),
                None => standalone += 1,
            }
        }
    }
    for service in &mut services {
        if let Details::EcsService(s) = &mut service.details {
            s.task_interfaces = by_service.remove(&service.name).unwrap_or_default();
        }
    }
    let instances = if registered == 0 {
        Vec::new()
    } else {
        container_instances(client, region, &cluster_arn).await?
    };
    let mut cluster = cluster.clone();
    if let Details::EcsCluster(details) = &mut cluster.details {
        details.container_instances = instances;
        details.standalone_tasks = standalone;
    }
    services.push(cluster);
    Ok(services)
}

/// The services named by `arns` in `cluster`, 10 per DescribeServices.
pub(crate) async fn describe_services(
    client: &Client,
    region: &str,
    cluster: &str,
    arns: &[String],
) -> Result<Vec<Resource>, ProviderError> {
    let mut out = Vec::new();
    for chunk in arns.chunks(SERVICES_PER_CALL) {
        let answer = client
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| api_error("ecs:DescribeServices", Some(region), e))?;
        out.extend(
            answer
                .services()
                .iter()
                .filter_map(|s| service_resource(region, cluster, s)),
        );
    }
    Ok(out)
}

/// An ACTIVE service of `cluster` as decom models it (its tasks' interfaces left
/// empty); `None` for an INACTIVE one.
pub(crate) fn service_resource(
    region: &str,
    cluster: &str,
    s: &aws_sdk_ecs::types::Service,
) -> Option<Resource> {
    let arn = s.service_arn()?;
    if s.status() == Some("INACTIVE") {
        return None;
    }
    let awsvpc = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    Some(Resource {
        id: arn.to_string(),
        name: s.service_name().unwrap_or_default().to_string(),
        region: region.to_string(),
        tags: tags(s.tags()),
        details: Details::EcsService(EcsService {
            cluster: s.cluster_arn().unwrap_or(cluster).to_string(),
            status: s.status().unwrap_or_default().to_string(),
            scheduling_strategy: s
                .scheduling_strategy()
                .map_or("REPLICA", |x| x.as_str())
                .to_string(),
            launch_type: s.launch_type().map(|l| l.as_str().to_string()),
            desired_count: s.desired_count().max(0) as u32,
            running_count: s.running_count().max(0) as u32,
            pending_count: s.pending_count().max(0) as u32,
            task_definition: s.task_definition().unwrap_or_default().to_string(),
            target_groups: s
                .load_balancers()
                .iter()
                .filter_map(|lb| lb.target_group_arn().map(str::to_string))
                .collect(),
            security_groups: awsvpc
                .map(|a| a.security_groups().to_vec())
                .unwrap_or_default(),
            subnets: awsvpc.map(|a| a.subnets().to_vec()).unwrap_or_default(),
            role: s.role_arn().map(|r| role_name(r).to_string()),
            task_interfaces: Vec::new(),
            created: s.created_at().map(timestamp),
        }),
    })
}

/// Each running task's group (`service:<name>`, or anything else for a task that no
/// service started) and its interfaces.
async fn tasks(
    client: &Client,
    region: &str,
    cluster: &str,
) -> Result<Vec<(String, Vec<String>)>, ProviderError> {
    let arns: Vec<String> = client
        .list_tasks()
        .cluster(cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ecs:ListTasks", Some(region), e))?;
    let mut out = Vec::new();
    for chunk in arns.chunks(TASKS_PER_CALL) {
        let answer = client
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| api_error("ecs:DescribeTasks", Some(region), e))?;
        for task in answer.tasks() {
            let enis = task
                .attachments()
                .iter()
                .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
                .flat_map(|a| a.details())
                .filter(|d| d.name() == Some("networkInterfaceId"))
                .filter_map(|d| d.value().map(str::to_string))
                .collect();
            out.push((task.group().unwrap_or_default().to_string(), enis));
        }
    }
    Ok(out)
}

/// The EC2 instance ids of the cluster's registered container instances.
async fn container_instances(
    client: &Client,
    region: &str,
    cluster: &str,
) -> Result<Vec<String>, ProviderError> {
    let arns: Vec<String> = client
        .list_container_instances()
        .cluster(cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ecs:ListContainerInstances", Some(region), e))?;
    let mut out = Vec::new();
    for chunk in arns.chunks(INSTANCES_PER_CALL) {
        let answer = client
            .describe_container_instances()
            .cluster(cluster)
            .set_container_instances(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| api_error("ecs:DescribeContainerInstances", Some(region), e))?;
        out.extend(
            answer
                .container_instances()
                .iter()
                .filter_map(|c| c.ec2_instance_id().map(str::to_string)),
        );
    }
    out.sort();
    Ok(out)
}

/// Every revision of every family, ACTIVE and INACTIVE (ECS lists only ACTIVE ones
/// unless asked).
async fn task_definition_arns(client: &Client, region: &str) -> Result<Vec<String>, ProviderError> {
    let mut arns = Vec::new();
    for status in [TaskDefinitionStatus::Active, TaskDefinitionStatus::Inactive] {
        let listed: Vec<String> = client
            .list_task_definitions()
            .status(status)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("ecs:ListTaskDefinitions", Some(region), e))?;
        arns.extend(listed);
    }
    arns.sort();
    arns.dedup();
    Ok(arns)
}

/// The revisions named by `arns`, one DescribeTaskDefinition each.
pub(crate) async fn describe_task_definitions(
    client: &Client,
    region: &str,
    arns: Vec<String>,
) -> Result<Vec<Resource>, ProviderError> {
    let described = bounded(arns, CONCURRENCY, |arn| {
        let (client, region) = (client.clone(), region.to_string());
        async move { task_definition(&client, &region, &arn).await }
    })
    .await?;
    Ok(described.into_iter().flatten().collect())
}

async fn task_definition(
    client: &Client,
    region: &str,
    arn: &str,
) -> Result<Option<Resource>, ProviderError> {
    let answer = client
        .describe_task_definition()
        .task_definition(arn)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .map_err(|e| api_error("ecs:DescribeTaskDefinition", Some(region), e))?;
    Ok(answer
        .task_definition()
        .and_then(|td| task_definition_resource(region, arn, td, answer.tags())))
}

/// A revision as decom models it; `None` while its deletion is in progress.
pub(crate) fn task_definition_resource(
    region: &str,
    arn: &str,
    td: &aws_sdk_ecs::types::TaskDefinition,
    tag_list: &[aws_sdk_ecs::types::Tag],
) -> Option<Resource> {
    let status = td.status().map_or("ACTIVE", |s| s.as_str()).to_string();
    if status == "DELETE_IN_PROGRESS" {
        return None;
    }
    let containers = td.container_definitions();
    let mut log_groups: Vec<String> = containers
        .iter()
        .filter_map(|c| c.log_configuration())
        .filter(|l| *l.log_driver() == LogDriver::Awslogs)
        .filter_map(|l| l.options().and_then(|o| o.get("awslogs-group")).cloned())
        .collect();
    log_groups.sort();
    log_groups.dedup();
    let family = td.family().unwrap_or_default().to_string();
    Some(Resource {
        id: td.task_definition_arn().unwrap_or(arn).to_string(),
        name: format!("{family}:{}", td.revision()),
        region: region.to_string(),
        tags: tags(tag_list),
        details: Details::EcsTaskDefinition(EcsTaskDefinition {
            family,
            revision: td.revision().max(0) as u32,
            status,
            network_mode: td.network_mode().map(|n| n.as_str().to_string()),
            task_role: td.task_role_arn().map(|r| role_name(r).to_string()),
            execution_role: td.execution_role_arn().map(|r| role_name(r).to_string()),
            log_groups,
            images: containers
                .iter()
                .filter_map(|c| c.image().map(str::to_string))
                .collect(),
            registered: td.registered_at().map(timestamp),
        }),
    })
}

fn tags(tags: &[aws_sdk_ecs::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// The cluster of a service ARN (`…:service/<cluster>/<service>`); the default
/// cluster for the older format without it.
fn service_cluster(service_arn: &str) -> String {
    let tail = service_arn.rsplit_once(":service/").map_or("", |(_, t)| t);
    match tail.split_once('/') {
        Some((cluster, _)) => cluster.to_string(),
        None => "default".to_string(),
    }
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    let region = Some(op.target.region.as_str());
    let id = op.target.id.as_str();
    match (&op.action, op.target.ty) {
        (Action::AwaitDeletion, _) => Ok(()),
        (Action::ScaleToZero, ResourceType::EcsService) => client
            .update_service()
            .cluster(service_cluster(id))
            .service(id)
            .desired_count(0)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ecs:UpdateService", region, e)),
        (Action::Delete, ResourceType::EcsService) => client
            .delete_service()
            .cluster(service_cluster(id))
            .service(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ecs:DeleteService", region, e)),
        (Action::DeregisterTaskDefinition, ResourceType::EcsTaskDefinition) => client
            .deregister_task_definition()
            .task_definition(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ecs:DeregisterTaskDefinition", region, e)),
        (Action::Delete, ResourceType::EcsTaskDefinition) => {
            let answer = client
                .delete_task_definitions()
                .task_definitions(id)
                .send()
                .await
                .map_err(|e| api_error("ecs:DeleteTaskDefinitions", region, e))?;
            match answer.failures().first() {
                None => Ok(()),
                Some(failure) => {
                    let reason = failure.reason().unwrap_or_default();
                    // The call answers per revision in `failures`, not with an error.
                    let code = if reason.to_ascii_lowercase().contains("not found")
                        || reason.contains("MISSING")
                    {
                        "TaskDefinitionNotFound"
                    } else {
                        "ClientException"
                    };
                    Err(ProviderError::new(
                        "ecs:DeleteTaskDefinitions",
                        region,
                        code,
                        format!("{reason} {}", failure.detail().unwrap_or_default()),
                    ))
                }
            }
        }
        (Action::Delete, ResourceType::EcsCluster) => client
            .delete_cluster()
            .cluster(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ecs:DeleteCluster", region, e)),
        _ => Err(crate::unsupported(op)),
    }
}

/// Whether the operation's wait holds: no task of a service scaled to 0 runs; a
/// deleted service is INACTIVE (or gone).
pub(crate) async fn is_settled(client: &Client, op: &Operation) -> Result<bool, ProviderError> {
    let region = op.target.region.as_str();
    let found = describe_services(
        client,
        region,
        &service_cluster(&op.target.id),
        std::slice::from_ref(&op.target.id),
    )
    .await;
    let service = match found {
        Ok(mut services) => services.pop(),
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let Some(Resource {
        details: Details::EcsService(service),
        ..
    }) = service
    else {
        return Ok(true);
    };
    Ok(match op.action {
        Action::ScaleToZero => service.tasks() == 0,
        _ => false,
    })
}
