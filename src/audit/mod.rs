//! The orphan audit, a second consumer of the inventory beside the planner:
//! inventory (+ Terraform states, + `.decomignore`) -> findings of standing unused
//! resources -> report (text, JSON, Markdown) or a spec that deletes them.
//!
//! Pure and deterministic: the caller passes `now`; nothing here reads the clock,
//! the network or the environment. docs/audit.md describes every finding kind.

mod checks;
mod cost;
mod dangling;
mod emit;
mod ignore;
mod render;
mod terraform;

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    DiscoveryRequest, Inventory, InventoryIndex, NoProgress, Provider, ProviderError, ResourceKey,
    ResourceType,
};
use serde::{Deserialize, Serialize};

pub use cost::{CostEstimate, HOURS_PER_MONTH, lb_hourly_usd};
pub use emit::emit_spec;
pub use ignore::{IgnoreRules, IgnoreSource};
pub use render::{markdown, text};
pub use terraform::{StateEntry, TerraformState, TerraformStates};

/// Bumped on any incompatible change to the audit JSON (docs/audit.md).
pub const AUDIT_FORMAT_VERSION: u32 = 1;

/// The default for [`AuditOptions::unused_days`].
pub const DEFAULT_UNUSED_DAYS: u32 = 90;

/// The file `decom audit` reads known exceptions from.
pub const IGNORE_FILE_NAME: &str = ".decomignore";

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "`{path}` is not a Terraform state file: {source}\n  hint: pass a local state (`terraform state pull > terraform.tfstate`)"
    )]
    StateParse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "`{path}` is a Terraform state of format version {found}; decom reads version 4\n  hint: Terraform 0.12 and later write version 4; upgrade the state with a recent Terraform"
    )]
    StateVersion { path: String, found: u64 },
    #[error(
        "{path}:{line}: invalid pattern `{pattern}`: {message}\n  hint: lines are `type.id` globs such as `aws_iam_role.legacy-*`"
    )]
    IgnorePattern {
        path: String,
        line: usize,
        pattern: String,
        message: String,
    },
}

/// What the audit looks for and what it knows besides the inventory.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// The moment ages are measured from (passed in: the audit never reads the clock).
    pub now: jiff::Timestamp,
    /// A role, or a log group's last event, older than this many days is unused.
    pub unused_days: u32,
    /// Terraform states: findings they manage are marked, entries gone live reported.
    pub terraform: TerraformStates,
    /// Also list findings Terraform manages (they always count in the summary).
    pub include_managed: bool,
    pub ignore: IgnoreRules,
}

impl AuditOptions {
    pub fn new(now: jiff::Timestamp) -> Self {
        AuditOptions {
            now,
            unused_days: DEFAULT_UNUSED_DAYS,
            terraform: TerraformStates::default(),
            include_managed: false,
            ignore: IgnoreRules::default(),
        }
    }
}

/// The kinds of standing orphan the audit reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A non-default security group no interface uses and no other group's rule names.
    UnusedSecurityGroup,
    /// A target group no listener and no listener rule forwards to.
    UnusedTargetGroup,
    /// A load balancer with no listener.
    LoadBalancerWithoutListeners,
    /// A load balancer whose listeners forward only to target groups without targets.
    LoadBalancerWithoutTargets,
    /// An instance profile that holds no role.
    InstanceProfileWithoutRole,
    /// An instance profile no (non-terminated) instance runs with.
    InstanceProfileUnused,
    /// A customer managed policy attached to no role, user or group.
    PolicyUnattached,
    /// A role not used (RoleLastUsed) for the configured number of days.
    RoleUnused,
    /// A log group that stores nothing.
    LogGroupEmpty,
    /// A log group whose last event is older than the configured number of days.
    LogGroupStale,
    /// An ECS cluster without services, tasks or container instances.
    EcsClusterEmpty,
    /// A replica ECS service scaled to 0 that runs no task: drained, waiting for its
    /// deletion.
    EcsServiceScaledToZero,
    /// An EBS volume attached to no instance, older than the configured number of days.
    VolumeUnattached,
    /// A launch template or launch configuration no Auto Scaling group launches from.
    LaunchTemplateUnused,
    /// A metric alarm whose dimensions name only resources that do not exist.
    AlarmWithoutTarget,
    /// An ECR repository without images.
    EcrRepositoryEmpty,
    /// An ECR repository none of whose images was pulled for the configured number
    /// of days (`lastRecordedPullTime`).
    EcrRepositoryUnpulled,
    /// A Route53 record whose alias or CNAME names a load balancer DNS name that no
    /// load balancer of the account has: it points at nothing.
    Route53RecordDangling,
}

impl FindingKind {
    pub const ALL: [FindingKind; 18] = [
        FindingKind::UnusedSecurityGroup,
        FindingKind::UnusedTargetGroup,
        FindingKind::LoadBalancerWithoutListeners,
        FindingKind::LoadBalancerWithoutTargets,
        FindingKind::InstanceProfileWithoutRole,
        FindingKind::InstanceProfileUnused,
        FindingKind::PolicyUnattached,
        FindingKind::RoleUnused,
        FindingKind::LogGroupEmpty,
        FindingKind::LogGroupStale,
        FindingKind::EcsClusterEmpty,
        FindingKind::EcsServiceScaledToZero,
        FindingKind::VolumeUnattached,
        FindingKind::LaunchTemplateUnused,
        FindingKind::AlarmWithoutTarget,
        FindingKind::EcrRepositoryEmpty,
        FindingKind::EcrRepositoryUnpulled,
        FindingKind::Route53RecordDangling,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::UnusedSecurityGroup => "unused_security_group",
            FindingKind::UnusedTargetGroup => "unused_target_group",
            FindingKind::LoadBalancerWithoutListeners => "load_balancer_without_listeners",
            FindingKind::LoadBalancerWithoutTargets => "load_balancer_without_targets",
            FindingKind::InstanceProfileWithoutRole => "instance_profile_without_role",
            FindingKind::InstanceProfileUnused => "instance_profile_unused",
            FindingKind::PolicyUnattached => "policy_unattached",
            FindingKind::RoleUnused => "role_unused",
            FindingKind::LogGroupEmpty => "log_group_empty",
            FindingKind::LogGroupStale => "log_group_stale",
            FindingKind::EcsClusterEmpty => "ecs_cluster_empty",
            FindingKind::EcsServiceScaledToZero => "ecs_service_scaled_to_zero",
            FindingKind::VolumeUnattached => "volume_unattached",
            FindingKind::LaunchTemplateUnused => "launch_template_unused",
            FindingKind::AlarmWithoutTarget => "alarm_without_target",
            FindingKind::EcrRepositoryEmpty => "ecr_repository_empty",
            FindingKind::EcrRepositoryUnpulled => "ecr_repository_unpulled",
            FindingKind::Route53RecordDangling => "route53_record_dangling",
        }
    }

    /// The resource type the kind is about.
    pub fn resource_type(self) -> ResourceType {
        match self {
            FindingKind::UnusedSecurityGroup => ResourceType::SecurityGroup,
            FindingKind::UnusedTargetGroup => ResourceType::LbTargetGroup,
            FindingKind::LoadBalancerWithoutListeners | FindingKind::LoadBalancerWithoutTargets => {
                ResourceType::Lb
            }
            FindingKind::InstanceProfileWithoutRole | FindingKind::InstanceProfileUnused => {
                ResourceType::IamInstanceProfile
            }
            FindingKind::PolicyUnattached => ResourceType::IamPolicy,
            FindingKind::RoleUnused => ResourceType::IamRole,
            FindingKind::LogGroupEmpty | FindingKind::LogGroupStale => {
                ResourceType::CloudwatchLogGroup
            }
            FindingKind::EcsClusterEmpty => ResourceType::EcsCluster,
            FindingKind::EcsServiceScaledToZero => ResourceType::EcsService,
            FindingKind::VolumeUnattached => ResourceType::EbsVolume,
            FindingKind::LaunchTemplateUnused => ResourceType::LaunchTemplate,
            FindingKind::AlarmWithoutTarget => ResourceType::CloudwatchMetricAlarm,
            FindingKind::EcrRepositoryEmpty | FindingKind::EcrRepositoryUnpulled => {
                ResourceType::EcrRepository
            }
            FindingKind::Route53RecordDangling => ResourceType::Route53Record,
        }
    }

    /// The types the inventory must cover for the kind's evidence to be complete.
    pub fn evidence_types(self) -> &'static [ResourceType] {
        use ResourceType::*;
        match self {
            FindingKind::UnusedSecurityGroup => {
                &[SecurityGroup, NetworkInterface, Instance, Lb, EcsService]
            }
            FindingKind::UnusedTargetGroup => {
                &[LbTargetGroup, LbListener, LbListenerRule, EcsService]
            }
            FindingKind::LoadBalancerWithoutListeners => &[Lb, LbListener],
            FindingKind::LoadBalancerWithoutTargets => {
                &[Lb, LbListener, LbListenerRule, LbTargetGroup]
            }
            FindingKind::InstanceProfileWithoutRole => &[IamInstanceProfile],
            FindingKind::InstanceProfileUnused => &[IamInstanceProfile, Instance],
            FindingKind::PolicyUnattached => &[IamPolicy, IamRole],
            FindingKind::RoleUnused => &[IamRole],
            FindingKind::LogGroupEmpty | FindingKind::LogGroupStale => &[CloudwatchLogGroup],
            FindingKind::EcsClusterEmpty => &[EcsCluster, EcsService],
            FindingKind::EcsServiceScaledToZero => &[EcsService],
            FindingKind::VolumeUnattached => &[EbsVolume, Instance],
            FindingKind::LaunchTemplateUnused => &[LaunchTemplate, AutoscalingGroup],
            // And the type of each dimension's target, checked alarm by alarm.
            FindingKind::AlarmWithoutTarget => &[CloudwatchMetricAlarm],
            FindingKind::EcrRepositoryEmpty | FindingKind::EcrRepositoryUnpulled => {
                &[EcrRepository]
            }
            FindingKind::Route53RecordDangling => &[Route53Record, Lb],
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether Terraform manages a finding, as far as the given states tell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Management {
    /// No Terraform state was given.
    Unknown,
    /// In none of the given states.
    Unmanaged,
    /// In a given state, at this address.
    Managed { address: String, state: String },
}

impl Management {
    pub fn is_managed(&self) -> bool {
        matches!(self, Management::Managed { .. })
    }

    fn label(&self) -> String {
        match self {
            Management::Unknown => "-".into(),
            Management::Unmanaged => "no".into(),
            Management::Managed { address, .. } => address.clone(),
        }
    }
}

/// One standing orphan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    #[serde(rename = "type")]
    pub ty: ResourceType,
    pub id: String,
    pub name: String,
    pub region: String,
    /// `type.id`, as plans and `.decomignore` name resources.
    pub address: String,
    /// One sentence: why this resource counts as unused.
    pub why: String,
    /// The facts behind `why`: counts, dates, ages.
    pub evidence: BTreeMap<String, String>,
    pub terraform: Management,
    /// Where AWS publishes a fixed price for the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostEstimate>,
}

impl Finding {
    pub fn key(&self) -> ResourceKey {
        ResourceKey::new(self.ty, self.region.clone(), self.id.clone())
    }
}

/// A Terraform state entry whose resource discovery did not find.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MissingEntry {
    /// The Terraform address: `module.web.aws_lb.main`.
    pub address: String,
    #[serde(rename = "type")]
    pub ty: ResourceType,
    pub id: String,
    pub state: String,
}

/// A finding kind the audit could not check, because the inventory does not cover a
/// type its evidence needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotChecked {
    pub kind: FindingKind,
    pub missing_types: Vec<ResourceType>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditSummary {
    /// Findings listed in `findings`.
    pub findings: usize,
    pub unmanaged: usize,
    pub managed: usize,
    /// Managed findings left out of `findings` (without `include_managed`).
    pub managed_not_listed: usize,
    /// Findings silenced by `.decomignore`.
    pub ignored: usize,
    pub missing: usize,
    /// The sum of the listed findings' estimates, in US dollars per month.
    pub estimated_monthly_usd: f64,
}

/// The audit's result: the versioned JSON contract every rendering is drawn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub format_version: u32,
    pub account_id: String,
    pub regions: Vec<String>,
    /// The `now` ages were measured from (RFC 3339).
    pub as_of: String,
    pub unused_days: u32,
    /// The Terraform states consulted, as given.
    pub terraform_states: Vec<String>,
    /// Unmanaged (or unknown) first, then managed; by type, region and id within.
    pub findings: Vec<Finding>,
    /// Addresses of findings silenced by `.decomignore`.
    pub ignored: Vec<String>,
    pub missing: Vec<MissingEntry>,
    pub not_checked: Vec<NotChecked>,
    pub summary: AuditSummary,
}

impl AuditReport {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("audit report serializes");
        text.push('\n');
        text
    }

    pub fn has_findings(&self) -> bool {
        !self.findings.is_empty()
    }
}

/// Audits an inventory for standing orphans.
pub fn audit(inventory: &Inventory, options: &AuditOptions) -> AuditReport {
    let index = InventoryIndex::new(inventory);
    let context = checks::Context {
        index: &index,
        balancers: dangling::Balancers::of(inventory),
        now: options.now,
        unused_days: options.unused_days,
    };
    let not_checked: Vec<NotChecked> = FindingKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let missing_types: Vec<ResourceType> = kind
                .evidence_types()
                .iter()
                .copied()
                .filter(|t| !inventory.covers(*t))
                .collect();
            (!missing_types.is_empty()).then_some(NotChecked {
                kind,
                missing_types,
            })
        })
        .collect();
    let skipped: BTreeSet<FindingKind> = not_checked.iter().map(|n| n.kind).collect();

    let mut all = checks::find_all(&context);
    all.retain(|f| !skipped.contains(&f.kind));
    let has_states = !options.terraform.is_empty();
    for finding in &mut all {
        finding.terraform = match options.terraform.lookup(finding.ty, &finding.id) {
            Some(entry) => Management::Managed {
                address: entry.address.clone(),
                state: entry.state.clone(),
            },
            None if has_states => Management::Unmanaged,
            None => Management::Unknown,
        };
    }

    let mut summary = AuditSummary::default();
    let mut ignored = Vec::new();
    let mut findings = Vec::new();
    for finding in all {
        if options.ignore.is_ignored(&finding) {
            ignored.push(finding.address.clone());
            continue;
        }
        if finding.terraform.is_managed() {
            summary.managed += 1;
            if !options.include_managed {
                summary.managed_not_listed += 1;
                continue;
            }
        } else {
            summary.unmanaged += 1;
        }
        findings.push(finding);
    }
    findings.sort_by(|a, b| {
        (a.terraform.is_managed(), a.ty, &a.region, &a.id, a.kind).cmp(&(
            b.terraform.is_managed(),
            b.ty,
            &b.region,
            &b.id,
            b.kind,
        ))
    });
    ignored.sort();
    ignored.dedup();

    let missing = options.terraform.missing(inventory, &index);
    summary.findings = findings.len();
    summary.ignored = ignored.len();
    summary.missing = missing.len();
    summary.estimated_monthly_usd =
        cost::total_usd(findings.iter().filter_map(|f| f.cost.as_ref()));

    let mut regions = inventory.regions.clone();
    regions.sort();
    AuditReport {
        format_version: AUDIT_FORMAT_VERSION,
        account_id: inventory.account_id.clone(),
        regions,
        as_of: options.now.to_string(),
        unused_days: options.unused_days,
        terraform_states: options.terraform.paths(),
        findings,
        ignored,
        missing,
        not_checked,
        summary,
    }
}

/// The live audit: discovers every type in `regions` through the same
/// `Provider::discover` a plan uses (AWS, moto or the simulator), then audits.
/// The caller checks the account (`caller_identity`) first, as `decom audit` does.
pub async fn audit_account(
    provider: &dyn Provider,
    regions: Vec<String>,
    options: &AuditOptions,
) -> Result<AuditReport, ProviderError> {
    let inventory = provider
        .discover(&DiscoveryRequest::everything(regions), &NoProgress)
        .await?;
    Ok(audit(&inventory, options))
}
