//! The provider interface: how the engine discovers an account and changes it.
//! Implemented by `decom-aws` (the real APIs) and `decom-sim` (an in-memory account
//! that enforces AWS's deletion rules).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::inventory::Inventory;
use crate::model::{ResourceKey, ResourceType, Service};
use crate::restore::{RestoreCall, Restored};
use crate::unread::FactRequest;

/// Who the credentials belong to (STS GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerIdentity {
    pub account_id: String,
    pub arn: String,
}

/// What to discover: the regions, and the types the spec can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryRequest {
    pub regions: Vec<String>,
    pub types: BTreeSet<ResourceType>,
}

impl DiscoveryRequest {
    pub fn everything(regions: Vec<String>) -> Self {
        DiscoveryRequest {
            regions,
            types: ResourceType::ALL.into_iter().collect(),
        }
    }
}

/// One change a plan step makes. `target` is the resource the call is made on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Operation {
    pub target: ResourceKey,
    #[serde(flatten)]
    pub action: Action,
}

/// The kinds of change decom makes. Everything except `Delete` and `AwaitDeletion`
/// prepares a deletion; on a kept resource it is a visible `~` change in the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Delete the resource (terminate, for an instance) and, where AWS completes it
    /// asynchronously, wait until it is done.
    Delete,
    /// A resource AWS removes by itself once its owner is gone (a load balancer's or
    /// a terminated instance's network interfaces): wait until it is gone.
    AwaitDeletion,
    /// ModifyLoadBalancerAttributes `deletion_protection.enabled=false`.
    DisableDeletionProtection,
    /// ModifyInstanceAttribute `disableApiTermination=false`.
    DisableTerminationProtection,
    /// RevokeSecurityGroupIngress/Egress of one rule of the target group.
    RevokeRule { rule_id: String },
    /// DetachRolePolicy on the target role.
    DetachRolePolicy { policy_arn: String },
    /// DetachUserPolicy of the target policy from a user.
    DetachUserPolicy { user: String },
    /// DetachGroupPolicy of the target policy from a group.
    DetachGroupPolicy { group: String },
    /// DeleteRolePolicy (an inline policy) on the target role.
    DeleteInlinePolicy { policy_name: String },
    /// RemoveRoleFromInstanceProfile on the target profile.
    RemoveRoleFromProfile { role: String },
    /// DeletePolicyVersion on the target policy.
    DeletePolicyVersion { version_id: String },
    /// Scale the target to zero: on an ECS service, UpdateService `desiredCount=0`,
    /// then wait until no task of it runs; on an Auto Scaling group,
    /// UpdateAutoScalingGroup min = desired = max = 0: AWS then terminates its
    /// instances (decom never terminates them one by one).
    ScaleToZero,
    /// DeregisterTaskDefinition of the target revision (AWS deletes only inactive
    /// revisions).
    DeregisterTaskDefinition,
    /// CreateSnapshot of the target volume, waiting until it is `completed`
    /// (`allow { snapshot_volumes_first = true }`).
    SnapshotVolume,
    /// DeleteAutoScalingGroup with `ForceDelete`: AWS terminates the group's
    /// instances along with it (`allow { force_delete_autoscaling_groups = true }`).
    ForceDelete,
    /// DeleteRepository with `force`: AWS deletes the ECR repository's images with it
    /// (`allow { delete_images = true }`; the archive holds the image list).
    DeleteWithImages,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::AwaitDeletion => "await_deletion",
            Action::DisableDeletionProtection => "disable_deletion_protection",
            Action::DisableTerminationProtection => "disable_termination_protection",
            Action::RevokeRule { .. } => "revoke_rule",
            Action::DetachRolePolicy { .. } => "detach_role_policy",
            Action::DetachUserPolicy { .. } => "detach_user_policy",
            Action::DetachGroupPolicy { .. } => "detach_group_policy",
            Action::DeleteInlinePolicy { .. } => "delete_inline_policy",
            Action::RemoveRoleFromProfile { .. } => "remove_role_from_profile",
            Action::DeletePolicyVersion { .. } => "delete_policy_version",
            Action::ScaleToZero => "scale_to_zero",
            Action::DeregisterTaskDefinition => "deregister_task_definition",
            Action::SnapshotVolume => "snapshot_volume",
            Action::ForceDelete => "force_delete",
            Action::DeleteWithImages => "delete_with_images",
        }
    }

    /// Does the step make the target resource go away?
    pub fn removes_target(&self) -> bool {
        matches!(
            self,
            Action::Delete | Action::AwaitDeletion | Action::ForceDelete | Action::DeleteWithImages
        )
    }

    /// A short human description: `revoke rule sgr-1`, `detach policy arn:…`.
    pub fn describe(&self) -> String {
        match self {
            Action::Delete => "delete".into(),
            Action::AwaitDeletion => "wait until AWS deletes it".into(),
            Action::DisableDeletionProtection => "disable deletion protection".into(),
            Action::DisableTerminationProtection => "disable termination protection".into(),
            Action::RevokeRule { rule_id } => format!("revoke rule {rule_id}"),
            Action::DetachRolePolicy { policy_arn } => format!("detach policy {policy_arn}"),
            Action::DetachUserPolicy { user } => format!("detach from user {user}"),
            Action::DetachGroupPolicy { group } => format!("detach from group {group}"),
            Action::DeleteInlinePolicy { policy_name } => {
                format!("delete inline policy {policy_name}")
            }
            Action::RemoveRoleFromProfile { role } => format!("remove role {role}"),
            Action::DeletePolicyVersion { version_id } => {
                format!("delete policy version {version_id}")
            }
            Action::ScaleToZero => "scale to 0".into(),
            Action::DeregisterTaskDefinition => "deregister".into(),
            Action::SnapshotVolume => "snapshot the volume".into(),
            Action::ForceDelete => "delete with its instances (ForceDelete)".into(),
            Action::DeleteWithImages => "delete with its images (force)".into(),
        }
    }
}

impl Operation {
    pub fn new(target: ResourceKey, action: Action) -> Self {
        Operation { target, action }
    }

    /// The condition the step waits for after its call returns, if AWS completes it
    /// asynchronously, with the bound on that wait.
    pub fn wait(&self) -> Option<Wait> {
        match (&self.action, self.target.ty) {
            (Action::Delete, ResourceType::Instance) => Some(Wait {
                condition: format!("{} terminated", self.target.id),
                timeout: Duration::from_secs(15 * 60),
                typical: Duration::from_secs(45),
            }),
            (Action::ScaleToZero, ResourceType::EcsService) => Some(Wait {
                condition: format!("no task of {} runs", self.target.id),
                timeout: Duration::from_secs(15 * 60),
                typical: Duration::from_secs(60),
            }),
            // Terraform waits up to 20 minutes for a service to become INACTIVE.
            (Action::Delete, ResourceType::EcsService) => Some(Wait {
                condition: format!("{} inactive", self.target.id),
                timeout: Duration::from_secs(20 * 60),
                typical: Duration::from_secs(60),
            }),
            (Action::AwaitDeletion, ResourceType::Instance) => Some(Wait {
                condition: format!("{} terminated", self.target.id),
                timeout: Duration::from_secs(15 * 60),
                typical: Duration::from_secs(45),
            }),
            (Action::Delete | Action::ForceDelete, ResourceType::AutoscalingGroup) => Some(Wait {
                condition: format!("{} deleted", self.target.id),
                timeout: Duration::from_secs(10 * 60),
                typical: Duration::from_secs(30),
            }),
            // Route53 applies a change to its servers in about a minute (GetChange
            // INSYNC); an endpoint without GetChange counts it applied at once.
            (Action::Delete, ResourceType::Route53Record) => Some(Wait {
                condition: format!("deletion of {} in sync", self.target.id),
                timeout: Duration::from_secs(5 * 60),
                typical: Duration::from_secs(60),
            }),
            (Action::SnapshotVolume, _) => Some(Wait {
                condition: format!("snapshot of {} completed", self.target.id),
                timeout: Duration::from_secs(60 * 60),
                typical: Duration::from_secs(5 * 60),
            }),
            (Action::AwaitDeletion, _) => Some(Wait {
                condition: format!("{} released", self.target.id),
                timeout: Duration::from_secs(20 * 60),
                typical: Duration::from_secs(90),
            }),
            _ => None,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.target, self.action.describe())
    }
}

/// A bounded wait for an asynchronous completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// Named in progress output: `i-0abc terminated`.
    pub condition: String,
    pub timeout: Duration,
    /// How long AWS usually takes (docs/simulator.md, `Knobs::realistic`): apply
    /// starts the steps that lead to long waits first.
    pub typical: Duration,
}

/// The classes of failure the engine acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Already gone: a deletion counts as done.
    NotFound,
    /// An eventual-consistency conflict (DependencyViolation, ResourceInUse,
    /// DeleteConflict, OperationAborted): retried within a bounded budget.
    Conflict,
    /// AWS refuses outright (protection flags, default group): never retried.
    NotPermitted,
    /// Rate limited beyond the SDK's own retries.
    Throttled,
    /// A 5xx or a dropped connection.
    Transient,
    /// Missing permission.
    AccessDenied,
    Other,
}

impl ErrorKind {
    /// Classifies an AWS error code.
    pub fn from_code(code: &str) -> ErrorKind {
        match code {
            c if c.ends_with(".NotFound")
                || c.ends_with("NotFound")
                || c.ends_with("NotFoundException")
                || c == "NoSuchEntity"
                || c == "ResourceNotFoundException"
                || c == "LoadBalancerNotFound"
                || c == "TargetGroupNotFound"
                || c == "ListenerNotFound"
                || c == "RuleNotFound"
                || c == "ServiceNotActiveException"
                || c == "NoSuchHostedZone" =>
            {
                ErrorKind::NotFound
            }
            "DependencyViolation"
            | "ResourceInUse"
            | "DeleteConflict"
            | "OperationAbortedException"
            | "ClusterContainsServicesException"
            | "ClusterContainsTasksException"
            | "ClusterContainsContainerInstancesException"
            | "ScalingActivityInProgress"
            | "VolumeInUse"
            | "HostedZoneNotEmpty" => ErrorKind::Conflict,
            "OperationNotPermitted"
            | "CannotDelete"
            | "InvalidNetworkInterface.InUse"
            | "InvalidSnapshot.InUse" => ErrorKind::NotPermitted,
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            // Route53: a change of the zone is still being applied (the SDK counts it
            // as throttling too).
            | "PriorRequestNotComplete" => ErrorKind::Throttled,
            "InternalError"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "ServiceUnavailableException" => ErrorKind::Transient,
            // Not `UnrecognizedClientException` or `InvalidClientTokenId`: credentials
            // AWS does not know (or a disabled opt-in region), not a missing permission.
            c if c.contains("AccessDenied") || c == "UnauthorizedOperation" => {
                ErrorKind::AccessDenied
            }
            _ => ErrorKind::Other,
        }
    }

    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Conflict | ErrorKind::Throttled | ErrorKind::Transient
        )
    }
}

/// A failed API call, named so a user can act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// The AWS error code (`DependencyViolation`, `AccessDenied`, …).
    pub code: String,
    pub message: String,
    /// The API call: `ec2:DeleteSecurityGroup`.
    pub operation: String,
    pub region: Option<String>,
    /// What is known besides, when anything is: out of line, since errors travel by
    /// value in `Result`s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Box<ErrorDetail>>,
}

/// The parts of a [`ProviderError`] that only some errors have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// AWS's id of the request, for its support and CloudTrail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The underlying errors, outermost first, one line each: shown only when asked
    /// for (`-v`), since the message says what a person needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// Other calls of the same discovery refused for a missing permission:
    /// discovery goes on past the first refusal, so that one run names every missing
    /// permission. Empty unless the error is itself an `AccessDenied`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_denied: Vec<ProviderError>,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        if let Some(region) = &self.region {
            write!(f, " in {region}")?;
        }
        write!(f, ": {}: {}", self.code, self.message)?;
        if let Some(id) = self.request_id() {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProviderError {}

impl ProviderError {
    pub fn new(
        operation: impl Into<String>,
        region: Option<&str>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let code = code.into();
        ProviderError {
            kind: ErrorKind::from_code(&code),
            code,
            message: message.into(),
            operation: operation.into(),
            region: region.map(str::to_string),
            detail: None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        self.detail.as_ref()?.request_id.as_deref()
    }

    pub fn causes(&self) -> &[String] {
        self.detail.as_ref().map_or(&[], |d| &d.causes)
    }

    pub fn also_denied(&self) -> &[ProviderError] {
        self.detail.as_ref().map_or(&[], |d| &d.also_denied)
    }

    /// The detail, made when the error has none yet.
    pub fn detail_mut(&mut self) -> &mut ErrorDetail {
        self.detail.get_or_insert_with(Box::default)
    }

    /// Every call refused for a missing permission that this error stands for: itself
    /// and [`ErrorDetail::also_denied`] (none unless it is an `AccessDenied`).
    pub fn denials(&self) -> impl Iterator<Item = &ProviderError> {
        std::iter::once(self)
            .filter(|e| e.kind == ErrorKind::AccessDenied)
            .chain(self.also_denied())
    }
}

/// Hears about discovery as it goes; the binary draws progress bars from it.
pub trait DiscoveryProgress: Send + Sync {
    fn started(&self, _service: Service, _region: &str) {}
    fn finished(&self, _service: Service, _region: &str, _resources: usize) {}
}

/// Reports nothing.
pub struct NoProgress;
impl DiscoveryProgress for NoProgress {}

/// API calls made so far, per `service:Operation`.
pub type ApiCallStats = BTreeMap<String, u64>;

/// Polls in flight in the default [`Provider::settled_many`].
pub const SETTLED_IN_FLIGHT: usize = 8;

/// An AWS account as decom sees it: discovered, then changed one operation at a time.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The identity behind the credentials. The engine calls this first and checks
    /// the account before any other call.
    async fn caller_identity(&self) -> Result<CallerIdentity, ProviderError>;

    /// Discovers the requested types in the requested regions. Any failure is an
    /// error: a partial inventory is never returned.
    async fn discover(
        &self,
        request: &DiscoveryRequest,
        progress: &dyn DiscoveryProgress,
    ) -> Result<Inventory, ProviderError>;

    /// The listings only, one call per page (everything those answers carry), with
    /// the facts they leave out recorded in [`Inventory::unread`] for
    /// [`Provider::read_facts`]. A provider that cannot tell them apart discovers
    /// everything: this default.
    async fn discover_listings(
        &self,
        request: &DiscoveryRequest,
        progress: &dyn DiscoveryProgress,
    ) -> Result<Inventory, ProviderError> {
        self.discover(request, progress).await
    }

    /// Reads `wanted`, facts [`Inventory::unread`] lists, into `inventory`: each is
    /// then read, or its resource is gone from the inventory (deleted since the
    /// listing). Listeners and rules join the inventory as their load balancer's or
    /// listener's are read. Any failure is an error, as for [`Provider::discover`].
    async fn read_facts(
        &self,
        inventory: &mut Inventory,
        wanted: &FactRequest,
    ) -> Result<(), ProviderError> {
        let _ = (inventory, wanted);
        Ok(())
    }

    /// Makes one call. `NotFound` for a removal is reported as an error of kind
    /// `NotFound`; the engine counts it as done.
    async fn execute(&self, operation: &Operation) -> Result<(), ProviderError>;

    /// Whether the operation's asynchronous completion ([`Operation::wait`]) holds.
    async fn is_settled(&self, operation: &Operation) -> Result<bool, ProviderError>;

    /// [`Provider::is_settled`] for several operations, in their order: `apply` polls
    /// all its waiting steps together. A provider answers with batch calls where the
    /// service has them (one `DescribeInstances` for 200 terminating instances); this
    /// default asks [`SETTLED_IN_FLIGHT`] at a time. An error stands for its
    /// operation only.
    async fn settled_many(&self, operations: &[Operation]) -> Vec<Result<bool, ProviderError>> {
        use futures_util::StreamExt;
        let polls: Vec<_> = operations.iter().map(|o| self.is_settled(o)).collect();
        futures_util::stream::iter(polls)
            .buffered(SETTLED_IN_FLIGHT)
            .collect()
            .await
    }

    /// The full description of a resource for the archive (rules, documents,
    /// attributes, targets, …); `None` if it is gone.
    async fn describe(
        &self,
        target: &ResourceKey,
    ) -> Result<Option<serde_json::Value>, ProviderError>;

    /// The descriptions of several resources, each as [`Provider::describe`] gives
    /// it, in the order of `targets`. A provider answers with batch calls where the
    /// service has them; this default describes one target after another. An error
    /// stands for its target only: the others' answers are still returned.
    ///
    /// `discovered` is the account as the caller discovered it moments before, if it
    /// has it: a provider may take from it the fields of a resource's model that
    /// would otherwise cost a call per resource (termination protection, target
    /// health, tags) instead of reading them again; those fields are then as of that
    /// discovery.
    async fn describe_many(
        &self,
        targets: &[ResourceKey],
        discovered: Option<&Inventory>,
    ) -> Vec<Result<Option<serde_json::Value>, ProviderError>> {
        let _ = discovered;
        let mut descriptions = Vec::with_capacity(targets.len());
        for target in targets {
            descriptions.push(self.describe(target).await);
        }
        descriptions
    }

    /// Streams every event of a log group to `sink` (for the archive, with
    /// `archive_log_events = true`) and returns how many there were. A sink error
    /// stops the export and is returned as an error of kind `Other`.
    async fn export_log_events(
        &self,
        log_group: &ResourceKey,
        sink: &mut (dyn FnMut(serde_json::Value) -> std::io::Result<()> + Send),
    ) -> Result<u64, ProviderError>;

    /// Makes one restore call ([`crate::restore::RestoreAction`]). A dependency that
    /// is gone (the VPC or subnet a security group, target group or load balancer was
    /// in) is an error of kind `NotFound`; the engine fails that step and skips what
    /// depends on it.
    async fn restore(&self, call: &RestoreCall) -> Result<Restored, ProviderError>;

    /// Puts archived events (each as [`Provider::export_log_events`] gave it) back
    /// into a log group, in their stream and order, creating the streams; returns how
    /// many were written. Events older than the log group's retention or than AWS
    /// accepts (14 days before now) are left out and counted in neither.
    async fn import_log_events(
        &self,
        log_group: &ResourceKey,
        events: &[serde_json::Value],
    ) -> Result<u64, ProviderError>;

    /// How long to sleep between polls of a wait.
    fn poll_interval(&self) -> Duration {
        Duration::from_secs(5)
    }

    /// API calls made so far.
    fn api_calls(&self) -> ApiCallStats {
        ApiCallStats::new()
    }
}
