//! An ECS stack on moto: a cluster, task definition revisions and a Fargate service
//! behind a target group, tagged `stack`. moto runs no task (no task interfaces):
//! what it does not model is the simulator's part (docs/simulator.md).

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ContainerDefinition, LoadBalancer, LogConfiguration,
    LogDriver, NetworkConfiguration, NetworkMode, Tag,
};

use crate::sdk::Sdk;

/// What [`build`] made: ARNs.
#[derive(Debug, Clone)]
pub struct EcsStack {
    pub cluster: String,
    pub service: String,
    /// Every revision, oldest first; the service runs the last one.
    pub task_definitions: Vec<String>,
}

fn tag(stack: &str) -> Tag {
    Tag::builder().key("stack").value(stack).build()
}

/// A cluster `name`, `revisions` revisions of the task definition `name` (task role
/// `task_role`, logs to `log_group`) and a service `name` running the last one with
/// one task, in `subnets` and `security_group`, registered in `target_group`.
#[allow(clippy::too_many_arguments)]
pub async fn build(
    sdk: &Sdk,
    name: &str,
    stack: &str,
    revisions: u32,
    task_role: &str,
    log_group: &str,
    subnets: &[String],
    security_group: &str,
    target_group: &str,
) -> EcsStack {
    let cluster = sdk
        .ecs
        .create_cluster()
        .cluster_name(name)
        .tags(tag(stack))
        .send()
        .await
        .expect("create cluster")
        .cluster
        .and_then(|c| c.cluster_arn)
        .expect("cluster arn");
    let mut task_definitions = Vec::new();
    for revision in 1..=revisions {
        let container = ContainerDefinition::builder()
            .name("app")
            .image(format!(
                "123456789012.dkr.ecr.{}.amazonaws.com/{name}:v{revision}",
                sdk.region
            ))
            .memory(512)
            .log_configuration(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Awslogs)
                    .options("awslogs-group", log_group)
                    .options("awslogs-region", &sdk.region)
                    .build()
                    .expect("log configuration"),
            )
            .build();
        let arn = sdk
            .ecs
            .register_task_definition()
            .family(name)
            .network_mode(NetworkMode::Awsvpc)
            .task_role_arn(task_role)
            .container_definitions(container)
            .tags(tag(stack))
            .send()
            .await
            .expect("register task definition")
            .task_definition
            .and_then(|t| t.task_definition_arn)
            .expect("task definition arn");
        task_definitions.push(arn);
    }
    let network = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .set_subnets(Some(subnets.to_vec()))
                .security_groups(security_group)
                .assign_public_ip(AssignPublicIp::Disabled)
                .build()
                .expect("awsvpc configuration"),
        )
        .build();
    let service = sdk
        .ecs
        .create_service()
        .cluster(&cluster)
        .service_name(name)
        .task_definition(task_definitions.last().expect("a revision"))
        .desired_count(1)
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn(target_group)
                .container_name("app")
                .container_port(8080)
                .build(),
        )
        .network_configuration(network)
        .tags(tag(stack))
        .send()
        .await
        .expect("create service")
        .service
        .and_then(|s| s.service_arn)
        .expect("service arn");
    EcsStack {
        cluster,
        service,
        task_definitions,
    }
}
