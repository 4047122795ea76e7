//! The loaded spec: what must be absent, what must be kept, and how decom may reach
//! the account. Everything here is evaluated; no HCL expression survives loading.

use std::collections::BTreeMap;
use std::fmt;

use decom_provider::{Resource, ResourceType};
use serde::Serialize;

use super::diag::{Diagnostic, Location};

/// One file of the spec, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as the user gave it, joined with the file name (`spec/main.hcl`).
    pub display_path: String,
    /// The file name only (`main.hcl`).
    pub file_name: String,
    pub text: String,
}

/// A fully loaded and validated spec.
#[derive(Debug, Clone)]
pub struct Spec {
    pub sources: Vec<SourceFile>,
    pub provider: Option<ProviderBlock>,
    pub decommission: Decommission,
    /// Resolved variable values, rendered as HCL, for the record.
    pub variables: BTreeMap<String, String>,
    /// `sha256:<hex>` over the sorted source files and the resolved variables.
    pub hash: String,
}

impl Spec {
    /// Renders a diagnostic (e.g. a warning found by the engine) with a snippet of
    /// this spec's sources.
    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        diagnostic.render(&self.sources)
    }
}

/// `provider "aws" { ... }`: where and as whom decom may work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderBlock {
    pub regions: Vec<String>,
    /// Of the `regions` attribute (always set for a loaded spec).
    pub regions_location: Option<Location>,
    pub allowed_account_ids: Vec<String>,
    /// Of the `allowed_account_ids` attribute (always set for a loaded spec), for a
    /// refusal to point at.
    pub allowed_account_ids_location: Option<Location>,
    pub profile: Option<String>,
    pub assume_role: Option<AssumeRole>,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

/// `decommission "name" { ... }`: the one thing a spec asks for.
#[derive(Debug, Clone)]
pub struct Decommission {
    pub name: String,
    pub description: Option<String>,
    pub absent: Vec<Selector>,
    pub keep: Vec<Selector>,
    pub orphans: OrphanPolicy,
    pub not_before: Option<jiff::Timestamp>,
    pub archive_log_events: bool,
    /// Only scale the selected ECS services to 0; delete nothing (drain first,
    /// delete with a second spec days later: docs/ci.md).
    pub drain_only: bool,
    /// Where the logs of a service go (`/ecs/` for `/ecs/<service>`): log groups named
    /// after a service whose resources are all deleted are orphans. `None`: the
    /// built-in conventions.
    pub orphan_log_group_prefixes: Option<Vec<String>>,
    pub allow: Allow,
    pub location: Location,
}

/// What to do with resources left unused by the deletions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrphanPolicy {
    #[default]
    Report,
    Delete,
    Fail,
}

impl OrphanPolicy {
    pub const ALL: [OrphanPolicy; 3] = [
        OrphanPolicy::Report,
        OrphanPolicy::Delete,
        OrphanPolicy::Fail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrphanPolicy::Report => "report",
            OrphanPolicy::Delete => "delete",
            OrphanPolicy::Fail => "fail",
        }
    }
}

impl fmt::Display for OrphanPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OrphanPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrphanPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| s.to_string())
    }
}

/// Explicit opt-ins for changes to resources that are not deleted themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Allow {
    /// Revoke rules of kept security groups that reference deleted groups.
    pub revoke_kept_rules: bool,
    /// Detach deleted policies from kept roles/users/groups, remove deleted roles from
    /// kept instance profiles.
    pub detach_from_kept: bool,
    /// Turn off load balancer deletion protection first.
    pub disable_deletion_protection: bool,
    /// Turn off instance termination protection first.
    pub disable_termination_protection: bool,
    /// Delete target groups with healthy targets and load balancers forwarding to them.
    pub delete_live_traffic: bool,
    /// Snapshot each EBS volume the plan deletes, and wait until the snapshot is
    /// `completed`, before the volume (or the instance that takes it) goes.
    pub snapshot_volumes_first: bool,
    /// Delete Auto Scaling groups with `ForceDelete` (AWS terminates their instances
    /// with them) instead of scaling them to 0 and waiting for their instances first.
    pub force_delete_autoscaling_groups: bool,
    /// Delete ECR repositories that still hold images (DeleteRepository with
    /// `force`), the image list archived first.
    pub delete_images: bool,
    /// Delete the last weighted record above weight 0 of a set, or the primary of a
    /// failover pair, whose kept records would then take the traffic.
    pub move_dns_traffic: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SelectorKind {
    Absent,
    Keep,
}

impl SelectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectorKind::Absent => "absent",
            SelectorKind::Keep => "keep",
        }
    }
}

impl fmt::Display for SelectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compiled `name_glob`, keeping the pattern as written.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    matcher: globset::GlobMatcher,
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, globset::Error> {
        let matcher = globset::Glob::new(pattern)?.compile_matcher();
        Ok(Glob {
            pattern: pattern.to_string(),
            matcher,
        })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    pub fn matcher(&self) -> &globset::GlobMatcher {
        &self.matcher
    }

    pub fn is_match(&self, name: &str) -> bool {
        self.matcher.is_match(name)
    }
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl Eq for Glob {}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

/// An `absent` or `keep` block: a set of resources, every given attribute must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub kind: SelectorKind,
    /// `None` for `"*"` (any type).
    pub resource_type: Option<ResourceType>,
    /// The label as written: `aws_lb`, `aws_alb` or `*`.
    pub type_label: String,
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub name_prefix: Option<String>,
    pub name_glob: Option<Glob>,
    pub tags: BTreeMap<String, String>,
    pub regions: Vec<String>,
    /// Of the block's first token.
    pub location: Location,
}

impl Selector {
    /// Whether `resource` is in the set this selector names.
    pub fn matches(&self, resource: &Resource) -> bool {
        self.matches_untagged(resource)
            && self
                .tags
                .iter()
                .all(|(key, value)| resource.tags.get(key) == Some(value))
    }

    /// [`Selector::matches`] but for the tags: whether the resource's tags decide.
    pub fn matches_untagged(&self, resource: &Resource) -> bool {
        self.resource_type.is_none_or(|ty| ty == resource.ty())
            && (self.ids.is_empty() || self.ids.contains(&resource.id))
            && (self.names.is_empty() || self.names.contains(&resource.name))
            && self
                .name_prefix
                .as_ref()
                .is_none_or(|prefix| resource.name.starts_with(prefix.as_str()))
            && self
                .name_glob
                .as_ref()
                .is_none_or(|glob| glob.is_match(&resource.name))
            && (self.regions.is_empty() || self.regions.contains(&resource.region))
    }

    /// Whether the selector can match a listener or listener rule (`ty`) that
    /// discovery has not listed yet, in `region`. Their names have a fixed shape
    /// (`HTTPS:443`, `priority 10`, as AWS gives them), so a name or prefix that
    /// cannot have it rules them out; a glob is taken to match.
    pub fn may_match_unlisted(&self, ty: ResourceType, region: &str) -> bool {
        let shaped = |name: &str, prefix: bool| match ty {
            ResourceType::LbListenerRule => {
                let rest = name.strip_prefix("priority ");
                match rest {
                    Some(n) => n.chars().all(|c| c.is_ascii_digit()),
                    None => prefix && "priority ".starts_with(name),
                }
            }
            _ => {
                let (protocol, port) = name.split_once(':').unwrap_or((name, ""));
                (prefix || !protocol.is_empty())
                    && protocol.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    && port.chars().all(|c| c.is_ascii_digit())
            }
        };
        let arn_part = match ty {
            ResourceType::LbListenerRule => ":listener-rule/",
            _ => ":listener/",
        };
        self.resource_type.is_none_or(|t| t == ty)
            && (self.ids.is_empty() || self.ids.iter().any(|id| id.contains(arn_part)))
            && (self.names.is_empty() || self.names.iter().any(|n| shaped(n, false)))
            && self.name_prefix.as_ref().is_none_or(|p| shaped(p, true))
            && (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
    }

    /// `absent "aws_lb"`, as used in plan reasons.
    pub fn describe(&self) -> String {
        format!("{} \"{}\"", self.kind, self.type_label)
    }
}
