//! ECS's archive descriptions: each cluster, service and task definition revision as
//! the snapshot models it, plus what recreating it takes, in the JSON shapes (and
//! field names) ECS's own API uses: a cluster's settings and capacity providers
//! (`configuration`), a service's CreateService input (`configuration`), a
//! revision's RegisterTaskDefinition input (`registration`).

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    CapacityProviderStrategyItem, Cluster, ClusterField, ContainerDefinition, KeyValuePair,
    LogConfiguration, Secret, Service, ServiceField, Tag, TaskDefinition, TaskDefinitionField,
};
use decom_provider::{ErrorKind, ProviderError, ResourceKey, ResourceType};
use serde_json::{Map, Value, json};

use super::{cluster_resource, service_cluster, service_resource, task_definition_resource};
use crate::calls::api_error;

/// Describes one ECS resource for the archive; `None` if it is gone.
pub(crate) async fn describe(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<Value>, ProviderError> {
    let found = match target.ty {
        ResourceType::EcsCluster => describe_cluster(client, target).await,
        ResourceType::EcsService => describe_service(client, target).await,
        ResourceType::EcsTaskDefinition => describe_task_definition(client, target).await,
        _ => return Err(crate::unsupported_describe(target)),
    };
    match found {
        Err(e) if e.kind == ErrorKind::NotFound || e.code == "ClientException" => Ok(None),
        other => other,
    }
}

async fn describe_cluster(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<Value>, ProviderError> {
    let region = target.region.as_str();
    let answer = client
        .describe_clusters()
        .clusters(&target.id)
        .include(ClusterField::Tags)
        .include(ClusterField::Settings)
        .send()
        .await
        .map_err(|e| api_error("ecs:DescribeClusters", Some(region), e))?;
    Ok(answer
        .clusters()
        .iter()
        .filter(|c| c.cluster_arn() == Some(target.id.as_str()))
        .find_map(|c| {
            let (model, _) = cluster_resource(region, c)?;
            Some(json!({ "model": model, "configuration": cluster_configuration(c) }))
        }))
}

async fn describe_service(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<Value>, ProviderError> {
    let region = target.region.as_str();
    let cluster = service_cluster(&target.id);
    let answer = client
        .describe_services()
        .cluster(&cluster)
        .services(&target.id)
        .include(ServiceField::Tags)
        .send()
        .await
        .map_err(|e| api_error("ecs:DescribeServices", Some(region), e))?;
    Ok(answer
        .services()
        .iter()
        .filter(|s| s.service_arn() == Some(target.id.as_str()))
        .find_map(|s| {
            let model = service_resource(region, &cluster, s)?;
            Some(json!({ "model": model, "configuration": service_configuration(s) }))
        }))
}

async fn describe_task_definition(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<Value>, ProviderError> {
    let region = target.region.as_str();
    let answer = client
        .describe_task_definition()
        .task_definition(&target.id)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .map_err(|e| api_error("ecs:DescribeTaskDefinition", Some(region), e))?;
    Ok(answer.task_definition().and_then(|td| {
        let model = task_definition_resource(region, &target.id, td, answer.tags())?;
        (model.id == target.id)
            .then(|| json!({ "model": model, "registration": registration(td, answer.tags()) }))
    }))
}

/// `value` without its null fields, empty arrays and empty objects, recursively: the
/// archive holds what was set.
fn compact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, compact(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

fn tags_json(tags: &[Tag]) -> Value {
    tags.iter()
        .map(|t| json!({ "key": t.key(), "value": t.value() }))
        .collect()
}

fn pairs_json(pairs: &[KeyValuePair]) -> Value {
    pairs
        .iter()
        .map(|p| json!({ "name": p.name(), "value": p.value() }))
        .collect()
}

fn secrets_json(secrets: &[Secret]) -> Value {
    secrets
        .iter()
        .map(|s| json!({ "name": s.name(), "valueFrom": s.value_from() }))
        .collect()
}

fn strategy_json(items: &[CapacityProviderStrategyItem]) -> Value {
    items
        .iter()
        .map(|i| {
            json!({
                "capacityProvider": i.capacity_provider(),
                "weight": i.weight(),
                "base": i.base(),
            })
        })
        .collect()
}

fn log_configuration_json(log: &LogConfiguration) -> Value {
    json!({
        "logDriver": log.log_driver().as_str(),
        "options": log.options(),
        "secretOptions": secrets_json(log.secret_options()),
    })
}

fn container_json(c: &ContainerDefinition) -> Value {
    json!({
        "name": c.name(),
        "image": c.image(),
        "cpu": c.cpu(),
        "memory": c.memory(),
        "memoryReservation": c.memory_reservation(),
        "links": c.links(),
        "portMappings": c.port_mappings().iter().map(|p| json!({
            "containerPort": p.container_port(),
            "hostPort": p.host_port(),
            "protocol": p.protocol().map(|x| x.as_str()),
            "name": p.name(),
            "appProtocol": p.app_protocol().map(|x| x.as_str()),
            "containerPortRange": p.container_port_range(),
        })).collect::<Vec<_>>(),
        "essential": c.essential(),
        "entryPoint": c.entry_point(),
        "command": c.command(),
        "environment": pairs_json(c.environment()),
        "environmentFiles": c.environment_files().iter().map(|f| json!({
            "value": f.value(), "type": f.r#type().as_str(),
        })).collect::<Vec<_>>(),
        "mountPoints": c.mount_points().iter().map(|m| json!({
            "sourceVolume": m.source_volume(),
            "containerPath": m.container_path(),
            "readOnly": m.read_only(),
        })).collect::<Vec<_>>(),
        "volumesFrom": c.volumes_from().iter().map(|v| json!({
            "sourceContainer": v.source_container(), "readOnly": v.read_only(),
        })).collect::<Vec<_>>(),
        "secrets": secrets_json(c.secrets()),
        "dependsOn": c.depends_on().iter().map(|d| json!({
            "containerName": d.container_name(), "condition": d.condition().as_str(),
        })).collect::<Vec<_>>(),
        "startTimeout": c.start_timeout(),
        "stopTimeout": c.stop_timeout(),
        "hostname": c.hostname(),
        "user": c.user(),
        "workingDirectory": c.working_directory(),
        "disableNetworking": c.disable_networking(),
        "privileged": c.privileged(),
        "readonlyRootFilesystem": c.readonly_root_filesystem(),
        "dnsServers": c.dns_servers(),
        "dnsSearchDomains": c.dns_search_domains(),
        "dockerSecurityOptions": c.docker_security_options(),
        "interactive": c.interactive(),
        "pseudoTerminal": c.pseudo_terminal(),
        "dockerLabels": c.docker_labels(),
        "ulimits": c.ulimits().iter().map(|u| json!({
            "name": u.name().as_str(), "softLimit": u.soft_limit(), "hardLimit": u.hard_limit(),
        })).collect::<Vec<_>>(),
        "logConfiguration": c.log_configuration().map(log_configuration_json),
        "healthCheck": c.health_check().map(|h| json!({
            "command": h.command(),
            "interval": h.interval(),
            "timeout": h.timeout(),
            "retries": h.retries(),
            "startPeriod": h.start_period(),
        })),
        "systemControls": c.system_controls().iter().map(|s| json!({
            "namespace": s.namespace(), "value": s.value(),
        })).collect::<Vec<_>>(),
        "resourceRequirements": c.resource_requirements().iter().map(|r| json!({
            "value": r.value(), "type": r.r#type().as_str(),
        })).collect::<Vec<_>>(),
        "repositoryCredentials": c.repository_credentials().map(|r| json!({
            "credentialsParameter": r.credentials_parameter(),
        })),
    })
}

/// A revision's RegisterTaskDefinition input, as DescribeTaskDefinition answers it.
pub(crate) fn registration(td: &TaskDefinition, tags: &[Tag]) -> Value {
    compact(json!({
        "family": td.family(),
        "taskRoleArn": td.task_role_arn(),
        "executionRoleArn": td.execution_role_arn(),
        "networkMode": td.network_mode().map(|n| n.as_str()),
        "containerDefinitions": td.container_definitions().iter().map(container_json).collect::<Vec<_>>(),
        "volumes": td.volumes().iter().map(|v| json!({
            "name": v.name(),
            "host": v.host().map(|h| json!({ "sourcePath": h.source_path() })),
            "efsVolumeConfiguration": v.efs_volume_configuration().map(|e| json!({
                "fileSystemId": e.file_system_id(),
                "rootDirectory": e.root_directory(),
                "transitEncryption": e.transit_encryption().map(|t| t.as_str()),
            })),
            "configuredAtLaunch": v.configured_at_launch(),
        })).collect::<Vec<_>>(),
        "placementConstraints": td.placement_constraints().iter().map(|p| json!({
            "type": p.r#type().map(|t| t.as_str()), "expression": p.expression(),
        })).collect::<Vec<_>>(),
        "requiresCompatibilities": td.requires_compatibilities().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "cpu": td.cpu(),
        "memory": td.memory(),
        "pidMode": td.pid_mode().map(|p| p.as_str()),
        "ipcMode": td.ipc_mode().map(|p| p.as_str()),
        "runtimePlatform": td.runtime_platform().map(|r| json!({
            "cpuArchitecture": r.cpu_architecture().map(|c| c.as_str()),
            "operatingSystemFamily": r.operating_system_family().map(|o| o.as_str()),
        })),
        "ephemeralStorage": td.ephemeral_storage().map(|e| json!({ "sizeInGiB": e.size_in_gib() })),
        "tags": tags_json(tags),
    }))
}

/// A service's CreateService input but for its name, cluster, task definition and
/// desired count (which the model holds).
pub(crate) fn service_configuration(s: &Service) -> Value {
    let deployment = s.deployment_configuration();
    compact(json!({
        "launchType": s.launch_type().map(|l| l.as_str()),
        "capacityProviderStrategy": strategy_json(s.capacity_provider_strategy()),
        "platformVersion": s.platform_version(),
        "networkConfiguration": s.network_configuration().and_then(|n| n.awsvpc_configuration()).map(|a| json!({
            "awsvpcConfiguration": {
                "subnets": a.subnets(),
                "securityGroups": a.security_groups(),
                "assignPublicIp": a.assign_public_ip().map(|x| x.as_str()),
            }
        })),
        "loadBalancers": s.load_balancers().iter().map(|lb| json!({
            "targetGroupArn": lb.target_group_arn(),
            "loadBalancerName": lb.load_balancer_name(),
            "containerName": lb.container_name(),
            "containerPort": lb.container_port(),
        })).collect::<Vec<_>>(),
        "serviceRegistries": s.service_registries().iter().map(|r| json!({
            "registryArn": r.registry_arn(),
            "port": r.port(),
            "containerName": r.container_name(),
            "containerPort": r.container_port(),
        })).collect::<Vec<_>>(),
        "deploymentConfiguration": deployment.map(|d| json!({
            "maximumPercent": d.maximum_percent(),
            "minimumHealthyPercent": d.minimum_healthy_percent(),
            "deploymentCircuitBreaker": d.deployment_circuit_breaker().map(|b| json!({
                "enable": b.enable(), "rollback": b.rollback(),
            })),
        })),
        "deploymentController": s.deployment_controller().map(|d| json!({ "type": d.r#type().as_str() })),
        "schedulingStrategy": s.scheduling_strategy().map(|x| x.as_str()),
        "healthCheckGracePeriodSeconds": s.health_check_grace_period_seconds(),
        "placementConstraints": s.placement_constraints().iter().map(|p| json!({
            "type": p.r#type().map(|t| t.as_str()), "expression": p.expression(),
        })).collect::<Vec<_>>(),
        "placementStrategy": s.placement_strategy().iter().map(|p| json!({
            "type": p.r#type().map(|t| t.as_str()), "field": p.field(),
        })).collect::<Vec<_>>(),
        "role": s.role_arn(),
        "enableECSManagedTags": s.enable_ecs_managed_tags(),
        "propagateTags": s.propagate_tags().map(|p| p.as_str()),
        "enableExecuteCommand": s.enable_execute_command(),
        "tags": tags_json(s.tags()),
    }))
}

/// A cluster's settings and capacity providers (CreateCluster's input besides its
/// name and tags).
pub(crate) fn cluster_configuration(c: &Cluster) -> Value {
    compact(json!({
        "settings": c.settings().iter().map(|s| json!({
            "name": s.name().map(|n| n.as_str()), "value": s.value(),
        })).collect::<Vec<_>>(),
        "capacityProviders": c.capacity_providers(),
        "defaultCapacityProviderStrategy": strategy_json(c.default_capacity_provider_strategy()),
    }))
}
