//! Terraform state (format version 4, local files) as the audit reads it: which
//! resources Terraform manages, by our type and id, and at which address.

use std::collections::BTreeMap;
use std::path::Path;

use decom_provider::{GLOBAL_REGION, Inventory, InventoryIndex, ResourceKey, ResourceType};
use serde::Deserialize;

use super::{AuditError, MissingEntry};

/// One managed resource instance of a state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StateEntry {
    pub ty: ResourceType,
    /// Our id: the ARN for load balancers, listeners, rules, target groups and
    /// policies, the name for roles, instance profiles and log groups.
    pub id: String,
    /// The region when the state tells it (an ARN, or the `region` attribute of
    /// provider v6); `None` otherwise.
    pub region: Option<String>,
    /// `module.web.aws_lb.main["a"]`.
    pub address: String,
    /// The state file, as given.
    pub state: String,
}

/// One parsed state file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerraformState {
    pub path: String,
    pub entries: Vec<StateEntry>,
}

#[derive(Deserialize)]
struct RawState {
    version: u64,
    #[serde(default)]
    resources: Vec<RawResource>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    ty: String,
    name: String,
    #[serde(default)]
    instances: Vec<RawInstance>,
}

#[derive(Deserialize)]
struct RawInstance {
    #[serde(default)]
    index_key: Option<serde_json::Value>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
}

impl TerraformState {
    /// Parses a state; `path` names it in findings and errors. Data sources and
    /// types decom does not model (`aws_vpc`, `aws_iam_role_policy_attachment`, …)
    /// are skipped.
    pub fn parse(text: &str, path: &str) -> Result<TerraformState, AuditError> {
        let raw: RawState =
            serde_json::from_str(text).map_err(|source| AuditError::StateParse {
                path: path.to_string(),
                source,
            })?;
        if raw.version != 4 {
            return Err(AuditError::StateVersion {
                path: path.to_string(),
                found: raw.version,
            });
        }
        let mut entries = Vec::new();
        for resource in raw.resources {
            if resource.mode != "managed" {
                continue;
            }
            // `aws_alb` and the other aliases map through FromStr.
            let Ok(ty) = resource.ty.parse::<ResourceType>() else {
                continue;
            };
            let base = match &resource.module {
                Some(module) => format!("{module}.{}.{}", resource.ty, resource.name),
                None => format!("{}.{}", resource.ty, resource.name),
            };
            for instance in resource.instances {
                let Some(id) = our_id(ty, &instance.attributes) else {
                    continue;
                };
                let address = match &instance.index_key {
                    Some(serde_json::Value::String(k)) => format!("{base}[{k:?}]"),
                    Some(serde_json::Value::Number(n)) => format!("{base}[{n}]"),
                    _ => base.clone(),
                };
                let region = region_of(ty, &id, &instance.attributes);
                entries.push(StateEntry {
                    ty,
                    id,
                    region,
                    address,
                    state: path.to_string(),
                });
            }
        }
        entries.sort();
        Ok(TerraformState {
            path: path.to_string(),
            entries,
        })
    }

    pub fn load(path: &Path) -> Result<TerraformState, AuditError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| AuditError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }
}

fn attribute<'a>(
    attributes: &'a BTreeMap<String, serde_json::Value>,
    name: &str,
) -> Option<&'a str> {
    attributes
        .get(name)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

/// The state's id is ours for every modelled type (Terraform's `aws_iam_role` id is
/// the name, `aws_lb` the ARN, …); `arn` or `name` stand in when `id` is absent.
fn our_id(ty: ResourceType, attributes: &BTreeMap<String, serde_json::Value>) -> Option<String> {
    let by_arn = matches!(
        ty,
        ResourceType::Lb
            | ResourceType::LbListener
            | ResourceType::LbListenerRule
            | ResourceType::LbTargetGroup
            | ResourceType::IamPolicy
    );
    let by_name = matches!(
        ty,
        ResourceType::IamRole
            | ResourceType::IamInstanceProfile
            | ResourceType::CloudwatchLogGroup
            | ResourceType::AutoscalingGroup
            | ResourceType::LaunchConfiguration
    );
    // Terraform's id of a task definition is its family; the revision is in `arn`.
    if ty == ResourceType::EcsTaskDefinition {
        return attribute(attributes, "arn").map(str::to_string);
    }
    // A cluster's and a service's id is their ARN.
    attribute(attributes, "id")
        .or_else(|| by_arn.then(|| attribute(attributes, "arn")).flatten())
        .or_else(|| by_name.then(|| attribute(attributes, "name")).flatten())
        .map(str::to_string)
}

fn region_of(
    ty: ResourceType,
    id: &str,
    attributes: &BTreeMap<String, serde_json::Value>,
) -> Option<String> {
    if ty.is_global() {
        return Some(GLOBAL_REGION.to_string());
    }
    if let Some(region) = attribute(attributes, "region") {
        return Some(region.to_string());
    }
    let arn = if id.starts_with("arn:") {
        Some(id)
    } else {
        attribute(attributes, "arn")
    };
    arn.and_then(|a| a.split(':').nth(3))
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// Every state given to one audit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerraformStates {
    pub states: Vec<TerraformState>,
}

impl TerraformStates {
    pub fn new(states: Vec<TerraformState>) -> Self {
        TerraformStates { states }
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    pub fn paths(&self) -> Vec<String> {
        self.states.iter().map(|s| s.path.clone()).collect()
    }

    /// The first entry (in the order the states were given) for the type and id.
    pub fn lookup(&self, ty: ResourceType, id: &str) -> Option<&StateEntry> {
        self.states
            .iter()
            .flat_map(|s| s.entries.iter())
            .find(|e| e.ty == ty && e.id == id)
    }

    /// Entries of covered types, in the inventory's regions (or of unknown region),
    /// that discovery did not find.
    pub(super) fn missing(
        &self,
        inventory: &Inventory,
        index: &InventoryIndex<'_>,
    ) -> Vec<MissingEntry> {
        let mut missing: Vec<MissingEntry> = self
            .states
            .iter()
            .flat_map(|s| s.entries.iter())
            .filter(|e| inventory.covers(e.ty))
            .filter(|e| match &e.region {
                Some(region) if region == GLOBAL_REGION => true,
                Some(region) => inventory.regions.contains(region),
                None => true,
            })
            .filter(|e| {
                let found = match &e.region {
                    Some(region) => index.contains(&ResourceKey::new(e.ty, region, &e.id)),
                    None => inventory
                        .regions
                        .iter()
                        .any(|r| index.contains(&ResourceKey::new(e.ty, r, &e.id))),
                };
                !found
            })
            .map(|e| MissingEntry {
                address: e.address.clone(),
                ty: e.ty,
                id: e.id.clone(),
                state: e.state.clone(),
            })
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_aliases_modules_and_indexes_and_skips_the_rest() {
        let text = r#"{
          "version": 4, "terraform_version": "1.9.0", "serial": 3, "lineage": "x",
          "outputs": {},
          "resources": [
            {"mode": "managed", "type": "aws_alb", "name": "web", "provider": "p",
             "instances": [{"schema_version": 0, "attributes": {"id": "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1", "name": "web"}}]},
            {"module": "module.iam", "mode": "managed", "type": "aws_iam_role", "name": "r", "provider": "p",
             "instances": [{"index_key": "a", "attributes": {"id": "role-a", "arn": "arn:aws:iam::1:role/role-a"}},
                           {"index_key": 1, "attributes": {"name": "role-b"}}]},
            {"mode": "data", "type": "aws_iam_role", "name": "d", "provider": "p",
             "instances": [{"attributes": {"id": "data-role"}}]},
            {"mode": "managed", "type": "aws_vpc", "name": "v", "provider": "p",
             "instances": [{"attributes": {"id": "vpc-1"}}]}
          ]
        }"#;
        let state = TerraformState::parse(text, "t.tfstate").expect("parses");
        let addresses: Vec<(&str, &str)> = state
            .entries
            .iter()
            .map(|e| (e.address.as_str(), e.id.as_str()))
            .collect();
        assert_eq!(
            addresses,
            [
                (
                    "aws_alb.web",
                    "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1"
                ),
                ("module.iam.aws_iam_role.r[\"a\"]", "role-a"),
                ("module.iam.aws_iam_role.r[1]", "role-b"),
            ]
        );
        assert_eq!(state.entries[0].ty, ResourceType::Lb);
        assert_eq!(state.entries[0].region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn other_versions_are_refused_with_a_hint() {
        let err = TerraformState::parse(r#"{"version": 3, "modules": []}"#, "old.tfstate")
            .expect_err("v3");
        assert!(err.to_string().contains("version 3"), "{err}");
        assert!(TerraformState::parse("not json", "x").is_err());
    }
}
