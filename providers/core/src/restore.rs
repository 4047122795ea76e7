//! Restore: the calls that put back, from the archive an apply wrote, what that apply
//! deleted or changed. The engine (`decom restore`) orders them and replaces, in each
//! description, the ids of resources restored before with their new ids; a provider
//! makes one call per [`RestoreCall`].

use serde::{Deserialize, Serialize};

use crate::model::{ResourceKey, ResourceType, SecurityGroupRule, Target};

/// Whether decom can recreate a resource of a type from its archived description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restorability {
    /// Recreated by a `Create` call from the archived description.
    Recreate,
    /// Cannot be recreated; the reason is said in the restore plan.
    No(&'static str),
}

/// What decom can recreate, per type: the one place that says so.
pub fn restorability(ty: ResourceType) -> Restorability {
    use ResourceType as T;
    match ty {
        T::SecurityGroup
        | T::IamRole
        | T::IamPolicy
        | T::IamInstanceProfile
        | T::Lb
        | T::LbListener
        | T::LbListenerRule
        | T::LbTargetGroup
        | T::CloudwatchLogGroup
        | T::EcsCluster
        | T::EcsTaskDefinition
        | T::EcsService
        | T::Route53Record => Restorability::Recreate,
        T::Instance => Restorability::No(
            "a terminated instance cannot be brought back; launch a new one from the AMI and volume snapshots the archive records",
        ),
        T::NetworkInterface => Restorability::No(
            "a network interface is recreated by what owned it (a load balancer, an instance, a task), not on its own",
        ),
        T::Route53Zone => Restorability::No(
            "a hosted zone created again gets new name servers, which every delegation to it would have to name; create it by hand and update the delegations",
        ),
        T::AutoscalingGroup
        | T::LaunchTemplate
        | T::LaunchConfiguration
        | T::EbsVolume
        | T::EbsSnapshot
        | T::CloudwatchMetricAlarm
        | T::CloudwatchCompositeAlarm
        | T::EcrRepository => Restorability::No(
            "decom does not recreate this type yet; its archived description holds what to recreate it by hand",
        ),
    }
}

/// One call of a restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreCall {
    /// The resource the call is about: for `Create`, the archived resource (its old
    /// id); for the others, the live resource it changes (restored or kept), by its
    /// current id.
    pub target: ResourceKey,
    #[serde(flatten)]
    pub action: RestoreAction,
}

/// The kinds of call a restore makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RestoreAction {
    /// Recreates the target from `description` (the archived JSON, `{"model": …, …}`,
    /// as [`crate::Provider::describe`] wrote it, with the ids of resources restored
    /// before already replaced by their new ones). What the description holds is
    /// recreated with it, except what later calls add: a security group without its
    /// rules, a role without its managed policy attachments and without its instance
    /// profiles, an instance profile without its role, a target group without its
    /// targets, a load balancer without its listeners, a listener without its
    /// non-default rules, a log group without its events.
    ///
    /// A resource that already exists under the archived name (a role, policy,
    /// profile, target group, load balancer or log group of that name; a security
    /// group of that name in that VPC; a listener on that port; a rule at that
    /// priority) is not created again: the answer is [`Restored::present`].
    ///
    /// An ECS service is created with the desired count the engine writes into its
    /// description as `restore_desired_count` (0 unless `--desired-count`). A task
    /// definition is registered again: AWS gives it the next revision number, so its
    /// id (ARN) changes.
    Create { description: serde_json::Value },
    /// AuthorizeSecurityGroupIngress/Egress of one rule on the target group. A rule
    /// that exists already (`InvalidPermission.Duplicate`) is `present`.
    AuthorizeRule { rule: SecurityGroupRule },
    /// AttachRolePolicy of `policy_arn` to the target role.
    AttachRolePolicy { policy_arn: String },
    /// AttachUserPolicy of the target policy to `user`.
    AttachUserPolicy { user: String },
    /// AttachGroupPolicy of the target policy to `group`.
    AttachGroupPolicy { group: String },
    /// AddRoleToInstanceProfile of `role` to the target profile; `present` when the
    /// profile has that role already.
    AddRoleToProfile { role: String },
    /// RegisterTargets of the archived targets in the target group
    /// (`--register-targets`).
    RegisterTargets { targets: Vec<Target> },
}

impl RestoreAction {
    pub fn name(&self) -> &'static str {
        match self {
            RestoreAction::Create { .. } => "create",
            RestoreAction::AuthorizeRule { .. } => "authorize_rule",
            RestoreAction::AttachRolePolicy { .. } => "attach_role_policy",
            RestoreAction::AttachUserPolicy { .. } => "attach_user_policy",
            RestoreAction::AttachGroupPolicy { .. } => "attach_group_policy",
            RestoreAction::AddRoleToProfile { .. } => "add_role_to_profile",
            RestoreAction::RegisterTargets { .. } => "register_targets",
        }
    }

    /// A short human description: `create`, `authorize rule sgr-1`, …
    pub fn describe(&self) -> String {
        match self {
            RestoreAction::Create { .. } => "create".into(),
            RestoreAction::AuthorizeRule { rule } => {
                format!("authorize {:?} rule {}", rule.direction, rule.rule_id).to_lowercase()
            }
            RestoreAction::AttachRolePolicy { policy_arn } => format!("attach policy {policy_arn}"),
            RestoreAction::AttachUserPolicy { user } => format!("attach to user {user}"),
            RestoreAction::AttachGroupPolicy { group } => format!("attach to group {group}"),
            RestoreAction::AddRoleToProfile { role } => format!("add role {role}"),
            RestoreAction::RegisterTargets { targets } => {
                format!("register {} targets", targets.len())
            }
        }
    }
}

/// What a restore call did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    /// The live resource's id: for `Create`, the new id (a new security group id, a
    /// new load balancer ARN, …, or the name-based id it had), or the id of the
    /// resource found `present`; for the other calls, the target's id.
    pub id: String,
    /// The resource (or rule, attachment, role) already existed: nothing was created.
    pub present: bool,
    /// What the user must know: a new DNS name, a field the archive did not hold
    /// and AWS's default was used, …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Other names of the resource that changed with it, old → new (a load
    /// balancer's DNS name, in every spelling a record may use:
    /// [`crate::model::dns_name_spellings`]). The engine carries them into later
    /// descriptions as it does the id.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub renamed: std::collections::BTreeMap<String, String>,
}
