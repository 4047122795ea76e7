//! The links between resources, derived from the typed details by
//! [`Resource::references`], so that the planner, the simulator and the audit read
//! them from one place.

use serde::{Deserialize, Serialize};

use super::{Details, Resource, ResourceKey, ResourceType, ecr_repository_of};

impl Resource {
    /// Every link from this resource to another, derived from its details.
    pub fn references(&self) -> Vec<Reference> {
        let mut refs = Vec::new();
        self.for_each_reference(|kind, ty, region, id| {
            refs.push(Reference::new(kind, ResourceKey::new(ty, region, id)));
        });
        refs
    }

    /// [`Resource::references`] without building them: `f(kind, type, region, id)`
    /// per link, for the index over hundreds of thousands of resources.
    pub fn for_each_reference(&self, mut f: impl FnMut(RefKind, ResourceType, &str, &str)) {
        let region = self.region.as_str();
        match &self.details {
            Details::SecurityGroup(sg) => {
                for rule in &sg.rules {
                    if let Some(group) = &rule.referenced_group
                        && group.account_id.is_none()
                        && group.group_id != self.id
                    {
                        f(
                            RefKind::RuleReferencesGroup {
                                rule_id: rule.rule_id.clone(),
                            },
                            ResourceType::SecurityGroup,
                            region,
                            &group.group_id,
                        );
                    }
                }
            }
            Details::NetworkInterface(eni) => {
                for sg in &eni.security_groups {
                    f(
                        RefKind::UsesSecurityGroup,
                        ResourceType::SecurityGroup,
                        region,
                        sg,
                    );
                }
                if let Some(instance) = eni.attachment.as_ref().and_then(|a| a.instance_id.as_ref())
                {
                    f(
                        RefKind::AttachedToInstance,
                        ResourceType::Instance,
                        region,
                        instance,
                    );
                }
                if let Some(manager) = &eni.managed_by {
                    f(RefKind::ManagedBy, manager.ty, &manager.region, &manager.id);
                }
            }
            Details::Instance(instance) => {
                if !instance.state.is_gone() {
                    for sg in &instance.security_groups {
                        f(
                            RefKind::UsesSecurityGroup,
                            ResourceType::SecurityGroup,
                            region,
                            sg,
                        );
                    }
                    if let Some(profile) = &instance.instance_profile {
                        f(
                            RefKind::UsesInstanceProfile,
                            ResourceType::IamInstanceProfile,
                            region,
                            profile,
                        );
                    }
                    if let Some(group) = self.autoscaling_group() {
                        f(
                            RefKind::InstanceOfGroup,
                            ResourceType::AutoscalingGroup,
                            region,
                            group,
                        );
                    }
                }
            }
            Details::Lb(lb) => {
                for sg in &lb.security_groups {
                    f(
                        RefKind::UsesSecurityGroup,
                        ResourceType::SecurityGroup,
                        region,
                        sg,
                    );
                }
            }
            Details::LbListener(listener) => {
                f(
                    RefKind::ListenerOf,
                    ResourceType::Lb,
                    region,
                    &listener.load_balancer,
                );
                for tg in &listener.forward_target_groups {
                    f(RefKind::ForwardsTo, ResourceType::LbTargetGroup, region, tg);
                }
            }
            Details::LbListenerRule(rule) => {
                f(
                    RefKind::RuleOf,
                    ResourceType::LbListener,
                    region,
                    &rule.listener,
                );
                for tg in &rule.forward_target_groups {
                    f(RefKind::ForwardsTo, ResourceType::LbTargetGroup, region, tg);
                }
            }
            Details::LbTargetGroup(tg) => {
                for target in &tg.targets {
                    if tg.target_type == "instance" {
                        f(
                            RefKind::RegistersTarget,
                            ResourceType::Instance,
                            region,
                            &target.id,
                        );
                    }
                }
            }
            Details::IamRole(role) => {
                for policy in &role.attached_policies {
                    if is_customer_policy(policy) {
                        f(
                            RefKind::AttachedPolicy,
                            ResourceType::IamPolicy,
                            region,
                            policy,
                        );
                    }
                }
            }
            Details::IamPolicy(_) => {}
            Details::IamInstanceProfile(profile) => {
                for role in &profile.roles {
                    f(RefKind::ContainsRole, ResourceType::IamRole, region, role);
                }
            }
            Details::CloudwatchLogGroup(_) | Details::EbsSnapshot(_) => {}
            Details::EcsCluster(cluster) => {
                for instance in &cluster.container_instances {
                    f(
                        RefKind::HasContainerInstance,
                        ResourceType::Instance,
                        region,
                        instance,
                    );
                }
            }
            Details::EcsService(service) => {
                if service.status == "INACTIVE" {
                    return;
                }
                f(
                    RefKind::InCluster,
                    ResourceType::EcsCluster,
                    region,
                    &service.cluster,
                );
                f(
                    RefKind::RunsTaskDefinition,
                    ResourceType::EcsTaskDefinition,
                    region,
                    &service.task_definition,
                );
                for tg in &service.target_groups {
                    f(
                        RefKind::RegistersTasksIn,
                        ResourceType::LbTargetGroup,
                        region,
                        tg,
                    );
                }
                for sg in &service.security_groups {
                    f(
                        RefKind::UsesSecurityGroup,
                        ResourceType::SecurityGroup,
                        region,
                        sg,
                    );
                }
                if let Some(role) = &service.role {
                    f(RefKind::UsesRole, ResourceType::IamRole, region, role);
                }
            }
            Details::EcsTaskDefinition(td) => {
                for role in td.task_role.iter().chain(&td.execution_role) {
                    f(RefKind::UsesRole, ResourceType::IamRole, region, role);
                }
                for group in &td.log_groups {
                    f(
                        RefKind::WritesLogsTo,
                        ResourceType::CloudwatchLogGroup,
                        region,
                        group,
                    );
                }
                for image in &td.images {
                    if let Some((repo_region, repository)) = ecr_repository_of(image) {
                        f(
                            RefKind::UsesImageFrom,
                            ResourceType::EcrRepository,
                            repo_region,
                            repository,
                        );
                    }
                }
            }
            Details::AutoscalingGroup(group) => {
                if let Some(template) = &group.launch_template {
                    f(
                        RefKind::LaunchesFrom,
                        ResourceType::LaunchTemplate,
                        region,
                        template,
                    );
                }
                if let Some(configuration) = &group.launch_configuration {
                    f(
                        RefKind::LaunchesFrom,
                        ResourceType::LaunchConfiguration,
                        region,
                        configuration,
                    );
                }
                for tg in &group.target_groups {
                    f(
                        RefKind::RegistersInstancesIn,
                        ResourceType::LbTargetGroup,
                        region,
                        tg,
                    );
                }
            }
            Details::LaunchTemplate(template) => launch_links(
                &mut f,
                region,
                &template.security_groups,
                template.instance_profile.as_deref(),
            ),
            Details::LaunchConfiguration(configuration) => launch_links(
                &mut f,
                region,
                &configuration.security_groups,
                configuration.instance_profile.as_deref(),
            ),
            Details::CloudwatchMetricAlarm(alarm) => {
                for (ty, id) in alarm.targets() {
                    f(RefKind::Watches, ty, region, &id);
                }
            }
            Details::CloudwatchCompositeAlarm(alarm) => {
                for child in alarm.children() {
                    let ty = ResourceType::CloudwatchMetricAlarm;
                    f(RefKind::NamesAlarm, ty, region, &child);
                    f(
                        RefKind::NamesAlarm,
                        ResourceType::CloudwatchCompositeAlarm,
                        region,
                        &child,
                    );
                }
            }
            Details::EcrRepository(_) => {}
            Details::Route53Zone(_) => {}
            Details::Route53Record(record) => {
                f(
                    RefKind::InZone,
                    ResourceType::Route53Zone,
                    region,
                    &record.zone_id,
                );
                if let Some(lb) = &record.load_balancer {
                    f(RefKind::RoutesTo, ResourceType::Lb, &lb.region, &lb.arn);
                }
            }
            Details::EbsVolume(volume) => {
                for attachment in &volume.attachments {
                    f(
                        RefKind::AttachedToInstance,
                        ResourceType::Instance,
                        region,
                        &attachment.instance_id,
                    );
                }
            }
        }
    }
}

/// The links of a launch template or configuration: what its instances start with.
fn launch_links(
    f: &mut impl FnMut(RefKind, ResourceType, &str, &str),
    region: &str,
    security_groups: &[String],
    instance_profile: Option<&str>,
) {
    for sg in security_groups {
        f(
            RefKind::LaunchesWith,
            ResourceType::SecurityGroup,
            region,
            sg,
        );
    }
    if let Some(profile) = instance_profile {
        f(
            RefKind::LaunchesWith,
            ResourceType::IamInstanceProfile,
            region,
            profile,
        );
    }
}

/// AWS managed policies (`arn:aws:iam::aws:policy/…`) are not resources decom can
/// delete; only customer managed ones are modelled as `aws_iam_policy`.
pub fn is_customer_policy(arn: &str) -> bool {
    !arn.contains(":iam::aws:policy/")
}

/// How one resource points at another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefKind {
    /// An ENI, instance or load balancer uses the security group.
    UsesSecurityGroup,
    /// A rule of the group (`from`) names the group `to` as source or destination.
    RuleReferencesGroup { rule_id: String },
    /// The ENI or the volume is attached to the instance.
    AttachedToInstance,
    /// The requester-managed ENI belongs to the resource (a load balancer's ENIs).
    ManagedBy,
    /// The listener belongs to the load balancer.
    ListenerOf,
    /// The rule belongs to the listener.
    RuleOf,
    /// The listener's default action or the rule forwards to the target group.
    ForwardsTo,
    /// The target group has the instance registered as a target.
    RegistersTarget,
    /// The instance runs with the instance profile.
    UsesInstanceProfile,
    /// The instance profile holds the role.
    ContainsRole,
    /// The managed policy is attached to the role.
    AttachedPolicy,
    /// The ECS cluster has the EC2 instance registered as a container instance.
    HasContainerInstance,
    /// The ECS service runs in the cluster.
    InCluster,
    /// The ECS service runs the task definition (revision).
    RunsTaskDefinition,
    /// The ECS service registers its tasks in the target group.
    RegistersTasksIn,
    /// The task definition (task or execution role) or service assumes the role.
    UsesRole,
    /// The task definition's containers write to the log group (`awslogs-group`).
    WritesLogsTo,
    /// The instance was launched by the Auto Scaling group (its
    /// `aws:autoscaling:groupName` tag).
    InstanceOfGroup,
    /// The Auto Scaling group launches its instances from the launch template or
    /// launch configuration.
    LaunchesFrom,
    /// The Auto Scaling group registers its instances in the target group.
    RegistersInstancesIn,
    /// The launch template or configuration starts instances with the security group
    /// or the instance profile.
    LaunchesWith,
    /// The metric alarm's dimensions name the resource (a target group, a load
    /// balancer, an instance, a group, an ECS cluster or service).
    Watches,
    /// The composite alarm's rule names the alarm.
    NamesAlarm,
    /// The task definition's containers run an image from the ECR repository.
    UsesImageFrom,
    /// The Route53 record is in the hosted zone.
    InZone,
    /// The Route53 record's alias or CNAME names the load balancer's DNS name.
    RoutesTo,
}

impl RefKind {
    /// How the link reads in a reason or a path: `<from> <verb> <to>`.
    pub fn verb(&self) -> &'static str {
        match self {
            RefKind::UsesSecurityGroup => "uses security group",
            RefKind::RuleReferencesGroup { .. } => "has a rule referencing",
            RefKind::AttachedToInstance => "is attached to",
            RefKind::ManagedBy => "is managed by",
            RefKind::ListenerOf => "is a listener of",
            RefKind::RuleOf => "is a rule of",
            RefKind::ForwardsTo => "forwards to",
            RefKind::RegistersTarget => "has registered target",
            RefKind::UsesInstanceProfile => "uses instance profile",
            RefKind::ContainsRole => "contains role",
            RefKind::AttachedPolicy => "has attached policy",
            RefKind::HasContainerInstance => "has container instance",
            RefKind::InCluster => "runs in cluster",
            RefKind::RunsTaskDefinition => "runs task definition",
            RefKind::RegistersTasksIn => "registers its tasks in",
            RefKind::UsesRole => "uses role",
            RefKind::WritesLogsTo => "writes logs to",
            RefKind::InstanceOfGroup => "is an instance of",
            RefKind::LaunchesFrom => "launches instances from",
            RefKind::RegistersInstancesIn => "registers its instances in",
            RefKind::LaunchesWith => "launches instances with",
            RefKind::Watches => "watches",
            RefKind::NamesAlarm => "names in its rule",
            RefKind::UsesImageFrom => "runs an image from",
            RefKind::InZone => "is a record of",
            RefKind::RoutesTo => "routes to",
        }
    }
}

/// A link from the resource that holds it to `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reference {
    #[serde(flatten)]
    pub kind: RefKind,
    pub to: ResourceKey,
}

impl Reference {
    pub fn new(kind: RefKind, to: ResourceKey) -> Self {
        Reference { kind, to }
    }
}
