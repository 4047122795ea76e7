//! The archived JSON of ECS resources, read back in ECS's field names into the SDK's
//! input shapes: a task definition's containers and volumes, tags, secrets,
//! capacity provider strategies.

use aws_sdk_ecs::types::{
    ApplicationProtocol, CapacityProviderStrategyItem, ContainerCondition, ContainerDefinition,
    ContainerDependency, EfsTransitEncryption, EfsVolumeConfiguration, EnvironmentFile,
    EnvironmentFileType, HealthCheck, HostVolumeProperties, KeyValuePair, LogConfiguration,
    LogDriver, MountPoint, PortMapping, RepositoryCredentials, ResourceRequirement,
    ResourceType as EcsResourceType, Secret, SystemControl, Tag, TransportProtocol, Ulimit,
    UlimitName, Volume, VolumeFrom,
};
use serde_json::Value;

pub(super) fn string(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_string)
}

pub(super) fn int(value: &Value, field: &str) -> Option<i32> {
    value
        .get(field)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
}

pub(super) fn boolean(value: &Value, field: &str) -> Option<bool> {
    value.get(field).and_then(Value::as_bool)
}

pub(super) fn items<'a>(value: &'a Value, field: &str) -> &'a [Value] {
    value
        .get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub(super) fn strings(value: &Value, field: &str) -> Option<Vec<String>> {
    let list: Vec<String> = items(value, field)
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    (!list.is_empty()).then_some(list)
}

pub(super) fn object<'a>(value: &'a Value, field: &str) -> Option<&'a Value> {
    value.get(field).filter(|v| v.is_object())
}

/// `items` of `field`, each built by `build`; `None` for none (the SDK's unset).
pub(super) fn list<T>(
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

pub(super) fn string_map(
    value: &Value,
    field: &str,
) -> Option<std::collections::HashMap<String, String>> {
    let map = value.get(field)?.as_object()?;
    Some(
        map.iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
    )
}

pub(super) fn built<T, E: std::fmt::Display>(
    what: &str,
    result: Result<T, E>,
) -> Result<T, String> {
    result.map_err(|e| format!("with an incomplete {what}: {e}"))
}

pub(super) fn tag(v: &Value) -> Result<Tag, String> {
    Ok(Tag::builder()
        .set_key(string(v, "key"))
        .set_value(string(v, "value"))
        .build())
}

pub(super) fn pair(v: &Value) -> Result<KeyValuePair, String> {
    Ok(KeyValuePair::builder()
        .set_name(string(v, "name"))
        .set_value(string(v, "value"))
        .build())
}

pub(super) fn secret(v: &Value) -> Result<Secret, String> {
    built(
        "secret",
        Secret::builder()
            .set_name(string(v, "name"))
            .set_value_from(string(v, "valueFrom"))
            .build(),
    )
}

pub(super) fn strategy_item(v: &Value) -> Result<CapacityProviderStrategyItem, String> {
    built(
        "capacity provider strategy",
        CapacityProviderStrategyItem::builder()
            .set_capacity_provider(string(v, "capacityProvider"))
            .set_weight(int(v, "weight"))
            .set_base(int(v, "base"))
            .build(),
    )
}

pub(super) fn log_configuration(v: &Value) -> Result<LogConfiguration, String> {
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
pub(super) fn container(c: &Value) -> Result<ContainerDefinition, String> {
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

pub(super) fn volume(v: &Value) -> Result<Volume, String> {
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
