//! ECS's `Create` calls in the simulated account, under ECS's rules: a cluster comes
//! back empty under its name-based ARN; a task definition is registered as the next
//! revision of its family (AWS never reuses a revision number), ACTIVE; a service
//! needs its cluster (`ClusterNotFoundException`), an ACTIVE revision
//! (`ClientException`) and its target groups (`InvalidParameterException`), and
//! starts with the desired count the engine gives and no task.

use decom_provider::{
    Details, EcsCluster, EcsService, EcsTaskDefinition, Resource, ResourceKey, ResourceType,
};

use super::Account;
use super::restore::RESTORED_AT;
use crate::answers::Refusal;

impl Account {
    /// The live cluster or service that stands where the archived one would (a
    /// cluster of that name; a service of that name in that cluster); a task
    /// definition never does: each registration is a new revision.
    pub(super) fn same_ecs_name(&self, model: &Resource) -> Option<Option<String>> {
        let found = match &model.details {
            Details::EcsCluster(_) => self
                .of_type(ResourceType::EcsCluster, &model.region)
                .find(|live| live.name == model.name),
            Details::EcsService(archived) => self
                .of_type(ResourceType::EcsService, &model.region)
                .find(|live| {
                    live.name == model.name
                        && matches!(&live.details, Details::EcsService(s) if s.cluster == archived.cluster)
                }),
            Details::EcsTaskDefinition(_) => None,
            _ => return None,
        };
        Some(found.map(|live| live.id.clone()))
    }

    /// CreateService's refusals: the cluster, the revision (ACTIVE) and each target
    /// group must exist.
    pub(super) fn check_service(&self, region: &str, service: &EcsService) -> Result<(), Refusal> {
        let cluster = ResourceKey::new(ResourceType::EcsCluster, region, &service.cluster);
        if !self.contains(&cluster) {
            return Err(Refusal::new(
                "ClusterNotFoundException",
                format!("Cluster not found: {}", service.cluster),
            ));
        }
        let revision = ResourceKey::new(
            ResourceType::EcsTaskDefinition,
            region,
            &service.task_definition,
        );
        match self.resources.get(&revision).map(|r| &r.details) {
            Some(Details::EcsTaskDefinition(td)) if td.status == "ACTIVE" => {}
            Some(_) => {
                return Err(Refusal::new(
                    "ClientException",
                    format!("TaskDefinition is inactive: {}", service.task_definition),
                ));
            }
            None => {
                return Err(Refusal::new(
                    "ClientException",
                    format!(
                        "Unable to describe task definition {}",
                        service.task_definition
                    ),
                ));
            }
        }
        match service.target_groups.iter().find(|tg| {
            !self.contains(&ResourceKey::new(
                ResourceType::LbTargetGroup,
                region,
                tg.as_str(),
            ))
        }) {
            Some(tg) => Err(Refusal::new(
                "InvalidParameterException",
                format!("The target group {tg} does not exist"),
            )),
            None => Ok(()),
        }
    }

    /// What ECS gives the recreated resource: new ids and counts; the notes say
    /// what differs from the archive.
    pub(super) fn new_ecs(
        &mut self,
        model: &mut Resource,
        description: &serde_json::Value,
        notes: &mut Vec<String>,
    ) {
        let region = model.region.clone();
        match &mut model.details {
            Details::EcsCluster(cluster) => new_cluster(cluster),
            Details::EcsTaskDefinition(td) => {
                let revision = self.restore.next_revision(&region, &td.family, td.revision);
                notes.push(format!(
                    "registered as revision {revision} of `{}`, in place of revision {} (AWS does not reuse a revision number)",
                    td.family, td.revision
                ));
                let name = format!("{}:{revision}", td.family);
                model.id = format!(
                    "arn:aws:ecs:{region}:{}:task-definition/{name}",
                    self.account_id
                );
                model.name = name;
                new_revision(td, revision);
            }
            Details::EcsService(service) => {
                let desired = description
                    .get("restore_desired_count")
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0);
                notes.push(format!(
                    "created with desired count {desired} (it had {})",
                    service.desired_count
                ));
                new_service(service, desired);
            }
            _ => {}
        }
    }
}

fn new_cluster(cluster: &mut EcsCluster) {
    cluster.status = "ACTIVE".into();
    cluster.container_instances.clear();
    cluster.standalone_tasks = 0;
    cluster.running_tasks = 0;
}

fn new_revision(td: &mut EcsTaskDefinition, revision: u32) {
    td.revision = revision;
    td.status = "ACTIVE".into();
    td.registered = Some(RESTORED_AT.into());
}

fn new_service(service: &mut EcsService, desired: u32) {
    service.status = "ACTIVE".into();
    service.desired_count = desired;
    service.running_count = 0;
    service.pending_count = 0;
    service.task_interfaces.clear();
    service.created = Some(RESTORED_AT.into());
}
