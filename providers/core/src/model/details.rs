//! The per-type details of a resource: what discovery records of a security group,
//! an instance, a load balancer, a role, …

use serde::{Deserialize, Serialize};

use super::ResourceKey;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityGroup {
    pub vpc_id: Option<String>,
    pub description: String,
    /// The VPC's default group, which AWS refuses to delete (`CannotDelete`).
    pub is_default: bool,
    pub rules: Vec<SecurityGroupRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityGroupRule {
    /// `sgr-…`; stable across discoveries.
    pub rule_id: String,
    pub direction: RuleDirection,
    /// `tcp`, `udp`, `icmp` or `-1` for all.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ipv4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ipv6: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_list_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referenced_group: Option<GroupReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleDirection {
    #[default]
    Ingress,
    Egress,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupReference {
    pub group_id: String,
    /// Set when the group belongs to another account: recorded, never a reference
    /// decom can follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkInterface {
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub description: String,
    /// `interface`, `lambda`, `network_load_balancer`, …
    pub interface_type: String,
    /// `available`, `in-use`, …
    pub status: String,
    /// Created and managed by an AWS service on the account's behalf.
    pub requester_managed: bool,
    pub requester_id: Option<String>,
    pub security_groups: Vec<String>,
    pub attachment: Option<EniAttachment>,
    /// The resource that manages this interface, when decom can tell (a load
    /// balancer's ENIs: owner `amazon-elb`, description `ELB app/<name>/<id>`).
    pub managed_by: Option<ResourceKey>,
}

impl NetworkInterface {
    /// A requester-managed interface that decom cannot attribute to a resource it
    /// models (a Lambda function's, an RDS instance's, a VPC endpoint's, …).
    pub fn unmodelled_manager(&self) -> bool {
        self.requester_managed && self.managed_by.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EniAttachment {
    pub instance_id: Option<String>,
    pub device_index: Option<i32>,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Instance {
    pub state: InstanceState,
    pub instance_type: String,
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
    /// The instance profile's name.
    pub instance_profile: Option<String>,
    /// `disableApiTermination`: AWS refuses termination (`OperationNotPermitted`).
    pub termination_protection: bool,
    pub launch_time: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    #[default]
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
}

impl InstanceState {
    pub fn is_gone(self) -> bool {
        self == InstanceState::Terminated
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadBalancer {
    /// `application`, `network` or `gateway`.
    pub lb_type: String,
    pub scheme: String,
    pub dns_name: String,
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
    /// Attribute `deletion_protection.enabled`: AWS refuses deletion
    /// (`OperationNotPermitted`).
    pub deletion_protection: bool,
    pub state: String,
    pub created: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Listener {
    /// The load balancer's ARN.
    pub load_balancer: String,
    pub port: Option<i32>,
    pub protocol: String,
    /// Target groups the default action forwards to.
    pub forward_target_groups: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListenerRule {
    /// The listener's ARN.
    pub listener: String,
    pub priority: String,
    /// A readable summary of the conditions (`path-pattern=/api/*`).
    pub conditions: Vec<String>,
    pub forward_target_groups: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetGroup {
    /// `instance`, `ip`, `lambda` or `alb`.
    pub target_type: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub vpc_id: Option<String>,
    /// ARNs of the load balancers that route to it (as AWS reports them).
    pub load_balancers: Vec<String>,
    pub targets: Vec<Target>,
}

impl TargetGroup {
    pub fn healthy_targets(&self) -> usize {
        self.targets
            .iter()
            .filter(|t| t.health == "healthy")
            .count()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Target {
    pub id: String,
    pub port: Option<i32>,
    /// `healthy`, `unhealthy`, `draining`, `initial`, `unused`, …
    pub health: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Role {
    pub arn: String,
    pub path: String,
    /// The trust (assume role) policy document.
    pub trust_policy: Option<serde_json::Value>,
    /// ARNs of attached managed policies (AWS managed ones included).
    pub attached_policies: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
    pub last_used: Option<String>,
    pub created: Option<String>,
    /// Service-linked roles (path `/aws-service-role/`) are managed by AWS.
    pub service_linked: bool,
}

impl Role {
    /// A role an AWS service created and uses: flagged by discovery, or recognised
    /// by its path in a snapshot that does not flag it.
    pub fn is_service_linked(&self) -> bool {
        self.service_linked || self.path.starts_with("/aws-service-role/")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InlinePolicy {
    pub name: String,
    pub document: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub path: String,
    pub default_version_id: String,
    pub versions: Vec<PolicyVersion>,
    /// AWS's attachment count: roles, users and groups together.
    pub attachment_count: u32,
    /// Users and groups (not modelled as resources) the policy is attached to.
    pub attached_users: Vec<String>,
    pub attached_groups: Vec<String>,
    /// The default version's document, kept for the archive.
    pub document: Option<serde_json::Value>,
    pub created: Option<String>,
}

impl Policy {
    pub fn non_default_versions(&self) -> impl Iterator<Item = &PolicyVersion> {
        self.versions.iter().filter(|v| !v.is_default)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyVersion {
    pub version_id: String,
    pub is_default: bool,
    pub created: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceProfile {
    pub arn: String,
    pub path: String,
    /// Role names (AWS allows at most one).
    pub roles: Vec<String>,
    pub created: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogGroup {
    pub arn: String,
    pub retention_days: Option<i32>,
    pub stored_bytes: Option<u64>,
    pub created: Option<String>,
    pub last_event: Option<String>,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EcsCluster {
    /// `ACTIVE`, `PROVISIONING`, `DEPROVISIONING`, `FAILED`, `INACTIVE`.
    pub status: String,
    /// EC2 instance ids of the registered container instances: AWS refuses the
    /// cluster's deletion while any remains (`ClusterContainsContainerInstancesException`).
    pub container_instances: Vec<String>,
    /// Running or pending tasks that no service started (RunTask): AWS refuses the
    /// deletion while any remains (`ClusterContainsTasksException`).
    pub standalone_tasks: u32,
    pub running_tasks: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EcsService {
    /// The cluster's ARN.
    pub cluster: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// `REPLICA` or `DAEMON` (a daemon service has no desired count to scale).
    pub scheduling_strategy: String,
    /// `EC2`, `FARGATE`, `EXTERNAL`; none with a capacity provider strategy.
    pub launch_type: Option<String>,
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    /// The task definition's ARN (`…:task-definition/<family>:<revision>`).
    pub task_definition: String,
    /// ARNs of the target groups its tasks are registered in.
    pub target_groups: Vec<String>,
    /// The security groups and subnets of its tasks' interfaces (`awsvpc`).
    pub security_groups: Vec<String>,
    pub subnets: Vec<String>,
    /// The service's own IAM role (name), for a load balancer without `awsvpc`.
    pub role: Option<String>,
    /// The requester-managed interfaces of its running `awsvpc` tasks.
    pub task_interfaces: Vec<String>,
    pub created: Option<String>,
}

impl EcsService {
    pub fn is_daemon(&self) -> bool {
        self.scheduling_strategy == "DAEMON"
    }

    /// Tasks still running or starting.
    pub fn tasks(&self) -> u32 {
        self.running_count + self.pending_count
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EcsTaskDefinition {
    pub family: String,
    pub revision: u32,
    /// `ACTIVE` or `INACTIVE` (deregistered); AWS deletes only inactive revisions.
    pub status: String,
    pub network_mode: Option<String>,
    /// Role names.
    pub task_role: Option<String>,
    pub execution_role: Option<String>,
    /// Log groups its containers write to (`awslogs-group`).
    pub log_groups: Vec<String>,
    /// Image URIs of its containers (ECR repositories among them).
    pub images: Vec<String>,
    pub registered: Option<String>,
}

impl EcsTaskDefinition {
    pub fn is_active(&self) -> bool {
        self.status != "INACTIVE"
    }
}

/// The name of an IAM role from its ARN (`arn:aws:iam::1:role/path/name` → `name`);
/// a bare name is returned as it is.
pub fn role_name(arn_or_name: &str) -> &str {
    arn_or_name.rsplit('/').next().unwrap_or(arn_or_name)
}
