//! Restoring ECS: CreateCluster with its settings and capacity providers,
//! RegisterTaskDefinition from the archived registration input (a new revision),
//! CreateService from the archived configuration with the desired count the engine
//! chose. A cluster or service that is ACTIVE under the archived name is `present`.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    ApplicationProtocol, AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem,
    ClusterSetting, ClusterSettingName, Compatibility, ContainerCondition, ContainerDefinition,
    ContainerDependency, CpuArchitecture, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentController, DeploymentControllerType, EfsTransitEncryption, EfsVolumeConfiguration,
    EnvironmentFile, EnvironmentFileType, EphemeralStorage, HealthCheck, HostVolumeProperties,
    IpcMode, KeyValuePair, LaunchType, LoadBalancer, LogConfiguration, LogDriver, MountPoint,
    NetworkConfiguration, NetworkMode, OsFamily, PidMode, PlacementConstraint,
    PlacementConstraintType, PlacementStrategy, PlacementStrategyType, PortMapping, PropagateTags,
    RepositoryCredentials, ResourceRequirement, ResourceType as EcsResourceType, RuntimePlatform,
    SchedulingStrategy, Secret, ServiceRegistry, SystemControl, Tag,
    TaskDefinitionPlacementConstraint, TaskDefinitionPlacementConstraintType, TransportProtocol,
    Ulimit, UlimitName, Volume, VolumeFrom,
};
use decom_provider::{Details, ProviderError, RestoreAction, RestoreCall, Restored};
use serde_json::Value;

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

// Readers of the archived JSON, in ECS's field names.

fn string(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_string)
}

fn int(value: &Value, field: &str) -> Option<i32> {
    value
        .get(field)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
}

fn boolean(value: &Value, field: &str) -> Option<bool> {
    value.get(field).and_then(Value::as_bool)
}

fn items<'a>(value: &'a Value, field: &str) -> &'a [Value] {
    value
        .get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn strings(value: &Value, field: &str) -> Option<Vec<String>> {
    let list: Vec<String> = items(value, field)
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    (!list.is_empty()).then_some(list)
}

fn object<'a>(value: &'a Value, field: &str) -> Option<&'a Value> {
    value.get(field).filter(|v| v.is_object())
}

/// `items` of `field`, each built by `build`; `None` for none (the SDK's unset).
fn list<T>(
    value: &Value,
    field: &str,
    build: impl Fn(&Value) -> Result<T, String>,
) -> Result<Option<Vec<T>>, String> {
    let built = items(value, field)
        .iter()
        .map(build)
        .collect::<Result<Vec<T>, String>>()?;
    Ok((!built.is_empty()).then_some(built))
}

fn string_map(value: &Value, field: &str) -> Option<std::collections::HashMap<String, String>> {
    let map = value.get(field)?.as_object()?;
    Some(
        map.iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
    )
}

fn built<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> Result<T, String> {
    result.map_err(|e| format!("with an incomplete {what}: {e}"))
}

fn tag(v: &Value) -> Result<Tag, String> {
    Ok(Tag::builder()
        .set_key(string(v, "key"))
        .set_value(string(v, "value"))
        .build())
}

fn pair(v: &Value) -> Result<KeyValuePair, String> {
    Ok(KeyValuePair::builder()
        .set_name(string(v, "name"))
        .set_value(string(v, "value"))
        .build())
}

fn secret(v: &Value) -> Result<Secret, String> {
    built(
        "secret",
        Secret::builder()
            .set_name(string(v, "name"))
            .set_value_from(string(v, "valueFrom"))
            .build(),
    )
}

fn strategy_item(v: &Value) -> Result<CapacityProviderStrategyItem, String> {
    built(
        "capacity provider strategy",
        CapacityProviderStrategyItem::builder()
            .set_capacity_provider(string(v, "capacityProvider"))
            .set_weight(int(v, "weight"))
            .set_base(int(v, "base"))
            .build(),
    )
}

fn log_configuration(v: &Value) -> Result<LogConfiguration, String> {
    built(
        "log configuration",
        LogConfiguration::builder()
            .set_log_driver(string(v, "logDriver").map(|d| LogDriver::from(d.as_str())))
            .set_options(string_map(v, "options"))
            .set_secret_options(list(v, "secretOptions", secret)?)
            .build(),
    )
}

/// One archived container definition as RegisterTaskDefinition takes it.
fn container(c: &Value) -> Result<ContainerDefinition, String> {
    let port = |p: &Value| {
        Ok(PortMapping::builder()
            .set_container_port(int(p, "containerPort"))
            .set_host_port(int(p, "hostPort"))
            .set_protocol(string(p, "protocol").map(|x| TransportProtocol::from(x.as_str())))
            .set_name(string(p, "name"))
            .set_app_protocol(
                string(p, "appProtocol").map(|x| ApplicationProtocol::from(x.as_str())),
            )
            .set_container_port_range(string(p, "containerPortRange"))
            .build())
    };
    let health_check = object(c, "healthCheck")
        .map(|h| {
            built(
                "health check",
                HealthCheck::builder()
                    .set_command(strings(h, "command"))
                    .set_interval(int(h, "interval"))
                    .set_timeout(int(h, "timeout"))
                    .set_retries(int(h, "retries"))
                    .set_start_period(int(h, "startPeriod"))
                    .build(),
            )
        })
        .transpose()?;
    let credentials = object(c, "repositoryCredentials")
        .map(|r| {
            built(
                "repository credentials",
                RepositoryCredentials::builder()
                    .set_credentials_parameter(string(r, "credentialsParameter"))
                    .build(),
            )
        })
        .transpose()?;
    Ok(ContainerDefinition::builder()
        .set_name(string(c, "name"))
        .set_image(string(c, "image"))
        .set_cpu(int(c, "cpu"))
        .set_memory(int(c, "memory"))
        .set_memory_reservation(int(c, "memoryReservation"))
        .set_links(strings(c, "links"))
        .set_port_mappings(list(c, "portMappings", port)?)
        .set_essential(boolean(c, "essential"))
        .set_entry_point(strings(c, "entryPoint"))
        .set_command(strings(c, "command"))
        .set_environment(list(c, "environment", pair)?)
        .set_environment_files(list(c, "environmentFiles", |f| {
            built(
                "environment file",
                EnvironmentFile::builder()
                    .set_value(string(f, "value"))
                    .set_type(string(f, "type").map(|t| EnvironmentFileType::from(t.as_str())))
                    .build(),
            )
        })?)
        .set_mount_points(list(c, "mountPoints", |m| {
            Ok(MountPoint::builder()
                .set_source_volume(string(m, "sourceVolume"))
                .set_container_path(string(m, "containerPath"))
                .set_read_only(boolean(m, "readOnly"))
                .build())
        })?)
        .set_volumes_from(list(c, "volumesFrom", |v| {
            Ok(VolumeFrom::builder()
                .set_source_container(string(v, "sourceContainer"))
                .set_read_only(boolean(v, "readOnly"))
                .build())
        })?)
        .set_secrets(list(c, "secrets", secret)?)
        .set_depends_on(list(c, "dependsOn", |d| {
            built(
                "container dependency",
                ContainerDependency::builder()
                    .set_container_name(string(d, "containerName"))
                    .set_condition(
                        string(d, "condition").map(|x| ContainerCondition::from(x.as_str())),
                    )
                    .build(),
            )
        })?)
        .set_start_timeout(int(c, "startTimeout"))
        .set_stop_timeout(int(c, "stopTimeout"))
        .set_hostname(string(c, "hostname"))
        .set_user(string(c, "user"))
        .set_working_directory(string(c, "workingDirectory"))
        .set_disable_networking(boolean(c, "disableNetworking"))
        .set_privileged(boolean(c, "privileged"))
        .set_readonly_root_filesystem(boolean(c, "readonlyRootFilesystem"))
        .set_dns_servers(strings(c, "dnsServers"))
        .set_dns_search_domains(strings(c, "dnsSearchDomains"))
        .set_docker_security_options(strings(c, "dockerSecurityOptions"))
        .set_interactive(boolean(c, "interactive"))
        .set_pseudo_terminal(boolean(c, "pseudoTerminal"))
        .set_docker_labels(string_map(c, "dockerLabels"))
        .set_ulimits(list(c, "ulimits", |u| {
            built(
                "ulimit",
                Ulimit::builder()
                    .set_name(string(u, "name").map(|n| UlimitName::from(n.as_str())))
                    .set_soft_limit(int(u, "softLimit"))
                    .set_hard_limit(int(u, "hardLimit"))
                    .build(),
            )
        })?)
        .set_log_configuration(
            object(c, "logConfiguration")
                .map(log_configuration)
                .transpose()?,
        )
        .set_health_check(health_check)
        .set_system_controls(list(c, "systemControls", |s| {
            Ok(SystemControl::builder()
                .set_namespace(string(s, "namespace"))
                .set_value(string(s, "value"))
                .build())
        })?)
        .set_resource_requirements(list(c, "resourceRequirements", |r| {
            built(
                "resource requirement",
                ResourceRequirement::builder()
                    .set_value(string(r, "value"))
                    .set_type(string(r, "type").map(|t| EcsResourceType::from(t.as_str())))
                    .build(),
            )
        })?)
        .set_repository_credentials(credentials)
        .build())
}

fn volume(v: &Value) -> Result<Volume, String> {
    let efs = object(v, "efsVolumeConfiguration")
        .map(|e| {
            built(
                "EFS volume",
                EfsVolumeConfiguration::builder()
                    .set_file_system_id(string(e, "fileSystemId"))
                    .set_root_directory(string(e, "rootDirectory"))
                    .set_transit_encryption(
                        string(e, "transitEncryption")
                            .map(|t| EfsTransitEncryption::from(t.as_str())),
                    )
                    .build(),
            )
        })
        .transpose()?;
    Ok(Volume::builder()
        .set_name(string(v, "name"))
        .set_host(object(v, "host").map(|h| {
            HostVolumeProperties::builder()
                .set_source_path(string(h, "sourcePath"))
                .build()
        }))
        .set_efs_volume_configuration(efs)
        .set_configured_at_launch(boolean(v, "configuredAtLaunch"))
        .build())
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
/// cluster is `present`. A cluster that is gone answers `ClusterNotFoundException`.
async fn create_service(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let target = &call.target;
    let region = Some(target.region.as_str());
    let description = description_of(call)?;
    let model = archived_model(target, description)?;
    let Details::EcsService(service) = &model.details else {
        return Err(invalid(target, "is not a service"));
    };
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
