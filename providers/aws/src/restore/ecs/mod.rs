//! Restoring ECS: CreateCluster with its settings and capacity providers,
//! RegisterTaskDefinition from the archived registration input (a new revision),
//! CreateService from the archived configuration with the desired count the engine
//! chose. A cluster or service that is ACTIVE under the archived name is `present`.

mod input;

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ClusterSetting, ClusterSettingName, Compatibility,
    CpuArchitecture, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentController,
    DeploymentControllerType, EphemeralStorage, IpcMode, LaunchType, LoadBalancer,
    NetworkConfiguration, NetworkMode, OsFamily, PidMode, PlacementConstraint,
    PlacementConstraintType, PlacementStrategy, PlacementStrategyType, PropagateTags,
    RuntimePlatform, SchedulingStrategy, ServiceRegistry, Tag, TaskDefinitionPlacementConstraint,
    TaskDefinitionPlacementConstraintType,
};
use decom_provider::{Details, ProviderError, RestoreAction, RestoreCall, Restored};
use serde_json::Value;

use self::input::{
    boolean, built, container, int, list, object, strategy_item, string, strings, tag, volume,
};
use super::{archived_model, created, description_of, invalid, present, unsupported};
use crate::calls::{api_error, malformed};

pub(super) async fn restore(
    client: &Client,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    use decom_provider::ResourceType as T;
    match (&call.action, call.target.ty) {
        (RestoreAction::Create { .. }, T::EcsCluster) => create_cluster(client, call).await,
        (RestoreAction::Create { .. }, T::EcsTaskDefinition) => {
            register_task_definition(client, call).await
        }
        (RestoreAction::Create { .. }, T::EcsService) => create_service(client, call).await,
        _ => Err(unsupported(call)),
    }
}

/// RegisterTaskDefinition: always a new revision (ECS has no "present" revision: an
/// identical ACTIVE one is not looked for), whose new ARN is the answer.
async fn register_task_definition(
    client: &Client,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    let target = &call.target;
    let region = Some(target.region.as_str());
    let description = description_of(call)?;
    let model = archived_model(target, description)?;
    let Details::EcsTaskDefinition(archived) = &model.details else {
        return Err(invalid(target, "is not a task definition"));
    };
    let Some(input) = object(description, "registration") else {
        return Err(invalid(
            target,
            "has no `registration` (the RegisterTaskDefinition input, archived since decom restores task definitions); hint: register the revision by hand from the images and roles its `model` names",
        ));
    };
    let invalid_input = |e: String| invalid(target, format_args!("has a registration {e}"));
    let containers = list(input, "containerDefinitions", container).map_err(invalid_input)?;
    if containers.is_none() {
        return Err(invalid(target, "has a registration without containers"));
    }
    let runtime = object(input, "runtimePlatform").map(|r| {
        RuntimePlatform::builder()
            .set_cpu_architecture(
                string(r, "cpuArchitecture").map(|c| CpuArchitecture::from(c.as_str())),
            )
            .set_operating_system_family(
                string(r, "operatingSystemFamily").map(|o| OsFamily::from(o.as_str())),
            )
            .build()
    });
    let storage = object(input, "ephemeralStorage").map(|e| {
        EphemeralStorage::builder()
            .set_size_in_gib(int(e, "sizeInGiB"))
            .build()
    });
    let constraints = list(input, "placementConstraints", |p| {
        Ok(TaskDefinitionPlacementConstraint::builder()
            .set_type(
                string(p, "type").map(|t| TaskDefinitionPlacementConstraintType::from(t.as_str())),
            )
            .set_expression(string(p, "expression"))
            .build())
    })
    .map_err(invalid_input)?;
    let out = client
        .register_task_definition()
        .set_family(string(input, "family").or_else(|| Some(archived.family.clone())))
        .set_task_role_arn(string(input, "taskRoleArn"))
        .set_execution_role_arn(string(input, "executionRoleArn"))
        .set_network_mode(string(input, "networkMode").map(|n| NetworkMode::from(n.as_str())))
        .set_container_definitions(containers)
        .set_volumes(list(input, "volumes", volume).map_err(invalid_input)?)
        .set_placement_constraints(constraints)
        .set_requires_compatibilities(
            strings(input, "requiresCompatibilities")
                .map(|c| c.iter().map(|c| Compatibility::from(c.as_str())).collect()),
        )
        .set_cpu(string(input, "cpu"))
        .set_memory(string(input, "memory"))
        .set_pid_mode(string(input, "pidMode").map(|p| PidMode::from(p.as_str())))
        .set_ipc_mode(string(input, "ipcMode").map(|p| IpcMode::from(p.as_str())))
        .set_runtime_platform(runtime)
        .set_ephemeral_storage(storage)
        .set_tags(list(input, "tags", tag).map_err(invalid_input)?)
        .send()
        .await
        .map_err(|e| api_error("ecs:RegisterTaskDefinition", region, e))?;
    let registered = out
        .task_definition()
        .ok_or_else(|| malformed("ecs:RegisterTaskDefinition", region, "`taskDefinition`"))?;
    let arn = registered
        .task_definition_arn()
        .ok_or_else(|| malformed("ecs:RegisterTaskDefinition", region, "`taskDefinitionArn`"))?;
    let mut restored = created(arn);
    restored.notes.push(format!(
        "registered as revision {} of `{}`, in place of revision {} (AWS does not reuse a revision number)",
        registered.revision(),
        archived.family,
        archived.revision
    ));
    Ok(restored)
}

/// CreateCluster; an ACTIVE cluster of the name is `present` (CreateCluster would
/// answer it without a word).
async fn create_cluster(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let target = &call.target;
    let region = Some(target.region.as_str());
    let description = description_of(call)?;
    let model = archived_model(target, description)?;
    if !matches!(model.details, Details::EcsCluster(_)) {
        return Err(invalid(target, "is not a cluster"));
    }
    let existing = client
        .describe_clusters()
        .clusters(&model.name)
        .send()
        .await
        .map_err(|e| api_error("ecs:DescribeClusters", region, e))?;
    if let Some(arn) = existing
        .clusters()
        .iter()
        .filter(|c| c.status() == Some("ACTIVE"))
        .find_map(|c| c.cluster_arn())
    {
        return Ok(present(arn));
    }
    let empty = Value::Null;
    let config = object(description, "configuration").unwrap_or(&empty);
    let invalid_input = |e: String| invalid(target, format_args!("has a configuration {e}"));
    let settings = list(config, "settings", |s| {
        Ok(ClusterSetting::builder()
            .set_name(string(s, "name").map(|n| ClusterSettingName::from(n.as_str())))
            .set_value(string(s, "value"))
            .build())
    })
    .map_err(invalid_input)?;
    let tags: Vec<Tag> = model
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let out = client
        .create_cluster()
        .cluster_name(&model.name)
        .set_tags((!tags.is_empty()).then_some(tags))
        .set_settings(settings)
        .set_capacity_providers(strings(config, "capacityProviders"))
        .set_default_capacity_provider_strategy(
            list(config, "defaultCapacityProviderStrategy", strategy_item)
                .map_err(invalid_input)?,
        )
        .send()
        .await
        .map_err(|e| api_error("ecs:CreateCluster", region, e))?;
    let arn = out
        .cluster()
        .and_then(|c| c.cluster_arn())
        .ok_or_else(|| malformed("ecs:CreateCluster", region, "`clusterArn`"))?;
    Ok(created(arn))
}

/// CreateService in the archived cluster with the revision the engine names (the
/// new ARN), scaled to `restore_desired_count`; an ACTIVE service of the name in the
/// cluster is `present`. A cluster that is gone or INACTIVE is
/// `ClusterNotFoundException`, as CreateService answers it.
async fn create_service(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let target = &call.target;
    let region = Some(target.region.as_str());
    let description = description_of(call)?;
    let model = archived_model(target, description)?;
    let Details::EcsService(service) = &model.details else {
        return Err(invalid(target, "is not a service"));
    };
    // ECS keeps a deleted cluster a while as INACTIVE: one that is not ACTIVE is gone.
    let clusters = client
        .describe_clusters()
        .clusters(&service.cluster)
        .send()
        .await
        .map_err(|e| api_error("ecs:DescribeClusters", region, e))?;
    if !clusters
        .clusters()
        .iter()
        .any(|c| c.status() == Some("ACTIVE"))
    {
        return Err(ProviderError::new(
            "ecs:CreateService",
            region,
            "ClusterNotFoundException",
            format!(
                "cluster `{}` does not exist or is INACTIVE",
                service.cluster
            ),
        ));
    }
    let existing = client
        .describe_services()
        .cluster(&service.cluster)
        .services(&model.name)
        .send()
        .await
        .map_err(|e| api_error("ecs:DescribeServices", region, e))?;
    if let Some(arn) = existing
        .services()
        .iter()
        .filter(|s| s.status() == Some("ACTIVE"))
        .find_map(|s| s.service_arn())
    {
        return Ok(present(arn));
    }
    let mut notes = Vec::new();
    let empty = Value::Null;
    let config = match object(description, "configuration") {
        Some(config) => config,
        None => {
            notes.push("the archive does not hold the service's configuration (load balancers, deployment settings): it was created from its model, with AWS's defaults".to_string());
            &empty
        }
    };
    let invalid_input = |e: String| invalid(target, format_args!("has a configuration {e}"));
    let desired = description
        .get("restore_desired_count")
        .and_then(Value::as_u64)
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(0);
    let daemon = string(config, "schedulingStrategy")
        .unwrap_or_else(|| service.scheduling_strategy.clone())
        == "DAEMON";
    let strategy =
        list(config, "capacityProviderStrategy", strategy_item).map_err(invalid_input)?;
    let launch_type = match (&strategy, string(config, "launchType")) {
        (Some(_), _) => None,
        (None, Some(launch_type)) => Some(launch_type),
        (None, None) => service.launch_type.clone(),
    };
    let network = match object(config, "networkConfiguration")
        .and_then(|n| object(n, "awsvpcConfiguration"))
    {
        Some(a) => Some(
            built(
                "network configuration",
                AwsVpcConfiguration::builder()
                    .set_subnets(strings(a, "subnets"))
                    .set_security_groups(strings(a, "securityGroups"))
                    .set_assign_public_ip(
                        string(a, "assignPublicIp").map(|x| AssignPublicIp::from(x.as_str())),
                    )
                    .build(),
            )
            .map_err(invalid_input)?,
        ),
        None if !service.subnets.is_empty() => Some(
            built(
                "network configuration",
                AwsVpcConfiguration::builder()
                    .set_subnets(Some(service.subnets.clone()))
                    .set_security_groups(Some(service.security_groups.clone()))
                    .build(),
            )
            .map_err(invalid_input)?,
        ),
        None => None,
    };
    // A role is for a service outside awsvpc mode, and never the service-linked one.
    let role = string(config, "role")
        .filter(|r| network.is_none() && !r.contains(":role/aws-service-role/"));
    let deployment = object(config, "deploymentConfiguration")
        .map(|d| -> Result<DeploymentConfiguration, String> {
            let breaker = object(d, "deploymentCircuitBreaker").map(|b| {
                DeploymentCircuitBreaker::builder()
                    .set_enable(boolean(b, "enable"))
                    .set_rollback(boolean(b, "rollback"))
                    .build()
            });
            Ok(DeploymentConfiguration::builder()
                .set_maximum_percent(int(d, "maximumPercent"))
                .set_minimum_healthy_percent(int(d, "minimumHealthyPercent"))
                .set_deployment_circuit_breaker(breaker)
                .build())
        })
        .transpose()
        .map_err(invalid_input)?;
    let controller = object(config, "deploymentController")
        .map(|c| {
            built(
                "deployment controller",
                DeploymentController::builder()
                    .set_type(string(c, "type").map(|t| DeploymentControllerType::from(t.as_str())))
                    .build(),
            )
        })
        .transpose()
        .map_err(invalid_input)?;
    let load_balancers = list(config, "loadBalancers", |lb| {
        Ok(LoadBalancer::builder()
            .set_target_group_arn(string(lb, "targetGroupArn"))
            .set_load_balancer_name(string(lb, "loadBalancerName"))
            .set_container_name(string(lb, "containerName"))
            .set_container_port(int(lb, "containerPort"))
            .build())
    })
    .map_err(invalid_input)?;
    let registries = list(config, "serviceRegistries", |r| {
        Ok(ServiceRegistry::builder()
            .set_registry_arn(string(r, "registryArn"))
            .set_port(int(r, "port"))
            .set_container_name(string(r, "containerName"))
            .set_container_port(int(r, "containerPort"))
            .build())
    })
    .map_err(invalid_input)?;
    let constraints = list(config, "placementConstraints", |p| {
        Ok(PlacementConstraint::builder()
            .set_type(string(p, "type").map(|t| PlacementConstraintType::from(t.as_str())))
            .set_expression(string(p, "expression"))
            .build())
    })
    .map_err(invalid_input)?;
    let placement = list(config, "placementStrategy", |p| {
        Ok(PlacementStrategy::builder()
            .set_type(string(p, "type").map(|t| PlacementStrategyType::from(t.as_str())))
            .set_field(string(p, "field"))
            .build())
    })
    .map_err(invalid_input)?;
    let tags = match list(config, "tags", tag).map_err(invalid_input)? {
        Some(tags) => Some(tags),
        None => (!model.tags.is_empty()).then(|| {
            model
                .tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect()
        }),
    };
    let out = client
        .create_service()
        .cluster(&service.cluster)
        .service_name(&model.name)
        .task_definition(&service.task_definition)
        .set_desired_count((!daemon).then_some(desired))
        .set_launch_type(launch_type.map(|l| LaunchType::from(l.as_str())))
        .set_capacity_provider_strategy(strategy)
        .set_platform_version(string(config, "platformVersion"))
        .set_network_configuration(network.map(|a| {
            NetworkConfiguration::builder()
                .awsvpc_configuration(a)
                .build()
        }))
        .set_load_balancers(load_balancers)
        .set_service_registries(registries)
        .set_deployment_configuration(deployment)
        .set_deployment_controller(controller)
        .scheduling_strategy(SchedulingStrategy::from(if daemon {
            "DAEMON"
        } else {
            "REPLICA"
        }))
        .set_health_check_grace_period_seconds(int(config, "healthCheckGracePeriodSeconds"))
        .set_placement_constraints(constraints)
        .set_placement_strategy(placement)
        .set_role(role)
        .set_enable_ecs_managed_tags(boolean(config, "enableECSManagedTags"))
        .set_propagate_tags(
            string(config, "propagateTags").map(|p| PropagateTags::from(p.as_str())),
        )
        .set_enable_execute_command(boolean(config, "enableExecuteCommand"))
        .set_tags(tags)
        .send()
        .await
        .map_err(|e| api_error("ecs:CreateService", region, e))?;
    let arn = out
        .service()
        .and_then(|s| s.service_arn())
        .ok_or_else(|| malformed("ecs:CreateService", region, "`serviceArn`"))?;
    if !daemon {
        notes.push(format!(
            "created with desired count {desired} (it had {})",
            service.desired_count
        ));
    }
    Ok(Restored {
        id: arn.to_string(),
        present: false,
        notes,
        ..Restored::default()
    })
}
