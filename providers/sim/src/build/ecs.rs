//! ECS in the builder: clusters with their container instances, services with the
//! interfaces AWS creates for their `awsvpc` tasks, and task definition revisions.

use std::collections::BTreeMap;

use decom_provider::{
    Details, EcsCluster, EcsService, EcsTaskDefinition, NetworkInterface, ResourceKey, ResourceType,
};

use super::{AccountBuilder, CREATED};

/// A service as the builder makes it.
pub struct ServiceSpec<'a> {
    pub name: &'a str,
    pub cluster: &'a str,
    pub task_definition: &'a str,
    /// `FARGATE` services run `awsvpc` tasks: one requester-managed interface each.
    pub launch_type: &'a str,
    pub desired_count: u32,
    pub target_groups: &'a [&'a str],
    pub security_groups: &'a [&'a str],
}

/// A task definition revision as the builder makes it.
pub struct TaskDefinitionSpec<'a> {
    pub family: &'a str,
    pub revision: u32,
    pub active: bool,
    pub task_role: Option<&'a str>,
    pub execution_role: Option<&'a str>,
    pub log_group: Option<&'a str>,
    pub image: &'a str,
}

impl AccountBuilder {
    fn ecs_arn(&self, path: &str) -> String {
        format!("arn:aws:ecs:{}:{}:{path}", self.region, self.account_id)
    }

    /// A cluster with the given EC2 instances registered; returns its ARN.
    pub fn ecs_cluster(
        &mut self,
        name: &str,
        container_instances: &[&str],
        tags: BTreeMap<String, String>,
    ) -> String {
        let arn = self.ecs_arn(&format!("cluster/{name}"));
        let details = Details::EcsCluster(EcsCluster {
            status: "ACTIVE".into(),
            container_instances: container_instances.iter().map(|i| i.to_string()).collect(),
            standalone_tasks: 0,
            running_tasks: 0,
        });
        let resource = self.regional(arn.clone(), name, tags, details);
        self.push(resource);
        arn
    }

    /// A task definition revision; returns its ARN.
    pub fn task_definition(
        &mut self,
        spec: &TaskDefinitionSpec<'_>,
        tags: BTreeMap<String, String>,
    ) -> String {
        let name = format!("{}:{}", spec.family, spec.revision);
        let arn = self.ecs_arn(&format!("task-definition/{name}"));
        let details = Details::EcsTaskDefinition(EcsTaskDefinition {
            family: spec.family.into(),
            revision: spec.revision,
            status: if spec.active { "ACTIVE" } else { "INACTIVE" }.into(),
            network_mode: Some("awsvpc".into()),
            task_role: spec.task_role.map(str::to_string),
            execution_role: spec.execution_role.map(str::to_string),
            log_groups: spec.log_group.map(str::to_string).into_iter().collect(),
            images: vec![spec.image.into()],
            registered: Some(CREATED.into()),
        });
        let resource = self.regional(arn.clone(), &name, tags, details);
        self.push(resource);
        arn
    }

    /// A service running `desired_count` tasks; a `FARGATE` one with a
    /// requester-managed interface per task, as ECS creates them. Returns its ARN.
    pub fn ecs_service(
        &mut self,
        spec: &ServiceSpec<'_>,
        tags: BTreeMap<String, String>,
    ) -> String {
        let cluster_name = spec.cluster.rsplit('/').next().unwrap_or(spec.cluster);
        let arn = self.ecs_arn(&format!("service/{cluster_name}/{}", spec.name));
        let awsvpc = spec.launch_type == "FARGATE";
        let security_groups: Vec<String> =
            spec.security_groups.iter().map(|s| s.to_string()).collect();
        let key = ResourceKey::new(ResourceType::EcsService, self.region.clone(), arn.clone());
        let mut task_interfaces = Vec::new();
        if awsvpc {
            for task in 0..spec.desired_count {
                let attachment = self.hex16();
                let eni = NetworkInterface {
                    vpc_id: Some(self.vpc_id.clone()),
                    subnet_id: Some(self.subnets[task as usize % 2].clone()),
                    description: format!(
                        "arn:aws:ecs:{}:{}:attachment/{attachment}",
                        self.region, self.account_id
                    ),
                    interface_type: "interface".into(),
                    status: "in-use".into(),
                    requester_managed: true,
                    requester_id: Some("578734482556".into()),
                    security_groups: security_groups.clone(),
                    attachment: None,
                    managed_by: Some(key.clone()),
                };
                task_interfaces.push(self.network_interface(eni));
            }
        }
        let details = Details::EcsService(EcsService {
            cluster: spec.cluster.into(),
            status: "ACTIVE".into(),
            scheduling_strategy: "REPLICA".into(),
            launch_type: Some(spec.launch_type.into()),
            desired_count: spec.desired_count,
            running_count: spec.desired_count,
            pending_count: 0,
            task_definition: spec.task_definition.into(),
            target_groups: spec.target_groups.iter().map(|t| t.to_string()).collect(),
            security_groups: if awsvpc { security_groups } else { Vec::new() },
            subnets: if awsvpc {
                self.subnets.to_vec()
            } else {
                Vec::new()
            },
            role: None,
            task_interfaces,
            created: Some(CREATED.into()),
        });
        let resource = self.regional(arn.clone(), spec.name, tags, details);
        self.push(resource);
        if let Details::EcsCluster(cluster) =
            self.details_mut(ResourceType::EcsCluster, spec.cluster)
        {
            cluster.running_tasks += spec.desired_count;
        }
        arn
    }
}
