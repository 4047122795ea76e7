//! The plan model: the versioned JSON contract (docs/plan-format.md) that every
//! rendering — text, Markdown, DOT — is drawn from.

use std::collections::BTreeMap;

use decom_provider::{Action, KeyRef, Operation, ResourceKey, ResourceType};
use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change to the plan JSON.
pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    /// False when a blocker stands, the inventory is incomplete, or `orphans = "fail"`
    /// found orphans: such a plan is never applied.
    pub applyable: bool,
    /// False when discovery did not cover every type the plan depends on.
    pub complete: bool,
    pub decommission: String,
    pub spec_hash: String,
    pub account_id: String,
    pub regions: Vec<String>,
    /// Steps in execution order.
    pub steps: Vec<PlanStep>,
    pub blockers: Vec<Blocker>,
    pub orphans: Vec<Orphan>,
    pub deferred: Vec<Deferred>,
    pub warnings: Vec<String>,
    pub summary: Summary,
}

/// One API call (or awaited AWS-side deletion) of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    /// 1-based execution order.
    pub order: usize,
    /// One more than the latest wave among its dependencies; steps of one wave can
    /// run in parallel.
    pub wave: usize,
    #[serde(flatten)]
    pub action: Action,
    #[serde(rename = "type")]
    pub ty: ResourceType,
    pub id: String,
    pub address: String,
    pub name: String,
    pub region: String,
    /// `destroy` when the step removes the resource, `update` when it changes it.
    pub change: Change,
    /// True when the step changes a resource the plan keeps (an explicit opt-in).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kept: bool,
    pub reason: String,
    /// Why the step is in the plan, for programs (`reason` is for people), as
    /// Terraform's `action_reason`. Absent in plans written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_reason: Option<ActionReason>,
    /// Orders of the steps it waits for.
    pub depends_on: Vec<usize>,
}

impl PlanStep {
    pub fn key(&self) -> ResourceKey {
        ResourceKey::new(self.ty, self.region.clone(), self.id.clone())
    }

    pub fn operation(&self) -> Operation {
        Operation::new(self.key(), self.action.clone())
    }
}

/// Why a step is in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionReason {
    /// Its resource matched an `absent` selector.
    Selected,
    /// AWS removes its resource with an owner the plan removes (a listener of a load
    /// balancer, an interface of an instance).
    Owned,
    /// Its resource is left unused by the plan and `orphans = "delete"`.
    Orphaned,
    /// A change AWS requires before a deletion of the plan (a detach, a role removed
    /// from a profile, a non-default policy version deleted).
    PreparesDeletion,
    /// A rule revoked to break a cycle of security groups referencing each other.
    BreaksCycle,
    /// A change the spec opted in to: to a kept resource, or a protection turned off.
    OptedInChange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Destroy,
    Update,
}

/// A resource reference in blockers, as `type` + `id` (+ address). The type is a
/// string because a blocker can name something decom does not model (an IAM user).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
    pub address: String,
}

impl From<&ResourceKey> for ResourceRef {
    fn from(key: &ResourceKey) -> Self {
        ResourceRef::from(key.as_key_ref())
    }
}

impl From<KeyRef<'_>> for ResourceRef {
    fn from(key: KeyRef<'_>) -> Self {
        ResourceRef {
            ty: key.ty.to_string(),
            id: key.id.to_string(),
            address: key.address(),
        }
    }
}

/// Something outside the plan that still depends on a target: the plan is not
/// applyable until it is resolved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Blocker {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
    pub address: String,
    pub blocked_by: ResourceRef,
    pub reason: String,
    /// Addresses from the blocking resource to the target.
    pub path: Vec<String>,
    pub hint: String,
}

/// A resource the plan leaves dangling: everything that used it is deleted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Orphan {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
    pub address: String,
    pub name: String,
    pub reason: String,
    /// Addresses from the orphan to the deleted users that left it dangling.
    pub path: Vec<String>,
    /// True when `orphans = "delete"` added it to the plan.
    pub deleted: bool,
}

/// Steps that wait for `not_before`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferred {
    pub order: usize,
    pub address: String,
    pub until: String,
}

/// Why a plan must not be applied, one reason of [`Plan::not_applyable_because`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotApplyable {
    /// Discovery did not cover every type or region the plan depends on.
    IncompleteInventory,
    /// This many blockers stand.
    Blockers(usize),
    /// Orphans were found (this many) and the spec says `orphans = "fail"`.
    OrphansFail(usize),
}

impl std::fmt::Display for NotApplyable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotApplyable::IncompleteInventory => f.write_str("the inventory is incomplete"),
            NotApplyable::Blockers(n) => write!(f, "{n} blocker(s)"),
            NotApplyable::OrphansFail(_) => {
                f.write_str("orphans were found and `orphans = \"fail\"`")
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    /// Resources the plan changes and keeps.
    pub change: usize,
    /// Resources the plan removes.
    pub destroy: usize,
    pub steps: usize,
    pub waves: usize,
    pub blockers: usize,
    pub orphans: usize,
    pub deferred: usize,
}

impl Plan {
    /// `Plan: 0 to add, N to change, M to destroy.`, exactly as Terraform prints it.
    pub fn summary_line(&self) -> String {
        format!(
            "Plan: {} to add, {} to change, {} to destroy.",
            self.summary.add, self.summary.change, self.summary.destroy
        )
    }

    pub fn has_changes(&self) -> bool {
        !self.steps.is_empty()
    }

    /// Why the plan must not be applied, the most fundamental reason first; empty
    /// when it is applyable. Every front end (renderers, exit codes, `apply`) reads
    /// the reasons here rather than from the fields.
    pub fn not_applyable_because(&self) -> Vec<NotApplyable> {
        if self.applyable {
            return Vec::new();
        }
        let mut reasons = Vec::new();
        if !self.complete {
            reasons.push(NotApplyable::IncompleteInventory);
        }
        if !self.blockers.is_empty() {
            reasons.push(NotApplyable::Blockers(self.blockers.len()));
        }
        // The plan does not record its orphan policy: with nothing else standing,
        // `orphans = "fail"` is what made it not applyable.
        if reasons.is_empty() {
            reasons.push(NotApplyable::OrphansFail(self.orphans.len()));
        }
        reasons
    }

    /// Steps by resource address, for lookups in renderings and diffs.
    pub fn steps_by_address(&self) -> BTreeMap<&str, Vec<&PlanStep>> {
        let mut map: BTreeMap<&str, Vec<&PlanStep>> = BTreeMap::new();
        for step in &self.steps {
            map.entry(step.address.as_str()).or_default().push(step);
        }
        map
    }

    pub fn to_json(&self) -> String {
        // A pretty-printed step takes about 500 bytes: sized up front, the text is
        // not copied through every doubling of its buffer (tens of MB on 100k steps).
        let mut text = Vec::with_capacity(4096 + 512 * self.steps.len());
        self.write_json(&mut text).expect("a Vec takes every write");
        String::from_utf8(text).expect("serde_json writes UTF-8")
    }

    /// [`Plan::to_json`] written to `out` as it is made: `decom plan -json` does not
    /// hold the text (58 MB on 100k steps). Give a buffered writer.
    pub fn write_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}
