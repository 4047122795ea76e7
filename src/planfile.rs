//! Saved plans (`plan -out FILE`): the plan, the spec it was made from (sources and
//! variable values, as Terraform embeds configuration in its plan files), the
//! fingerprints of every resource the plan touches and of their neighbours, account
//! and regions, sealed by a checksum so a corrupted file is refused, and signed with
//! HMAC-SHA256 when a signing key is set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use decom_provider::rules::link_shapes_plan;
use decom_provider::{Action, Inventory, InventoryIndex, Resource, ResourceKey, ResourceType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plan::Plan;

pub const PLAN_FILE_FORMAT: &str = "decom-plan";
pub const PLAN_FILE_VERSION: u32 = 2;

/// The environment variable holding the key plan files are signed and verified with.
pub const SIGNING_KEY_ENV: &str = "DECOM_PLAN_SIGNING_KEY";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    pub format: String,
    pub format_version: u32,
    pub decom_version: String,
    pub account_id: String,
    pub regions: Vec<String>,
    /// The types discovery covered; `apply` re-reads the same.
    pub types: Vec<ResourceType>,
    pub spec_hash: String,
    /// Whether the spec asked for log events to be archived before deletion.
    pub archive_log_events: bool,
    pub plan: Plan,
    /// `address@region` -> fingerprint, for every resource a step touches and every
    /// resource that references one of them.
    pub fingerprints: BTreeMap<String, String>,
    /// How `plan` reached the account, from the spec's provider block: `apply FILE`
    /// reaches it the same way. Absent when the standard configuration was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
    /// The spec the plan was made from: `apply` loads it again, checks it hashes to
    /// `spec_hash`, and re-derives the plan from it against the live account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<EmbeddedSpec>,
    /// `sha256:` over the canonical JSON of everything above.
    pub checksum: String,
    /// `hmac-sha256:` over `checksum` with the key in `DECOM_PLAN_SIGNING_KEY`, when
    /// the key was set at `plan -out`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A spec as the plan recorded it: its files and its variables' resolved values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedSpec {
    pub files: Vec<EmbeddedFile>,
    /// Name -> value rendered as HCL (`"lego-api"`, `["a", "b"]`).
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedFile {
    pub name: String,
    pub text: String,
}

/// The profile and role a plan was made with (never credentials themselves).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Connection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role: Option<RecordedRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRole {
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read plan file `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write plan file `{path}`: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "`{path}` is not a decom plan file: {detail}\n  hint: plan files are written by `decom plan -out FILE`; a spec is a directory or a `.hcl` file"
    )]
    Invalid { path: String, detail: String },
    #[error(
        "`{path}` was written by a decom with plan file version {found}; this one reads version {expected}\n  hint: run `decom plan -out` again with this version"
    )]
    Version {
        path: String,
        found: u32,
        expected: u32,
    },
    #[error(
        "`{path}` does not match its checksum: it was modified or corrupted after `decom plan` wrote it\n  hint: never edit a plan file; run `decom plan -out` again and review the new plan"
    )]
    Checksum { path: String },
    #[error(
        "`{path}` is not signed, and {SIGNING_KEY_ENV} is set: only signed plans are applied\n  hint: make the plan with the same {SIGNING_KEY_ENV} set (the CI plan job), or unset it to apply unsigned plans"
    )]
    Unsigned { path: String },
    #[error(
        "`{path}` has a signature that does not verify with the key in {SIGNING_KEY_ENV}: it was not signed by the plan job, or was changed after\n  hint: apply only plan files written by `decom plan -out` with the same signing key"
    )]
    BadSignature { path: String },
}

impl PlanFile {
    pub fn new(plan: Plan, inventory: &Inventory, archive_log_events: bool) -> PlanFile {
        let fingerprints = fingerprints_for(&plan, inventory);
        let mut file = PlanFile {
            format: PLAN_FILE_FORMAT.to_string(),
            format_version: PLAN_FILE_VERSION,
            decom_version: env!("CARGO_PKG_VERSION").to_string(),
            account_id: inventory.account_id.clone(),
            regions: inventory.regions.clone(),
            types: inventory.types.clone(),
            spec_hash: plan.spec_hash.clone(),
            archive_log_events,
            plan,
            fingerprints,
            connection: None,
            spec: None,
            checksum: String::new(),
            signature: None,
        };
        file.checksum = file.compute_checksum();
        file
    }

    /// Records how the account was reached (nothing when `connection` says nothing).
    pub fn with_connection(mut self, connection: Option<Connection>) -> PlanFile {
        self.connection = connection.filter(|c| c.profile.is_some() || c.assume_role.is_some());
        self.checksum = self.compute_checksum();
        self
    }

    /// Embeds the spec the plan was made from.
    pub fn with_spec(mut self, spec: EmbeddedSpec) -> PlanFile {
        self.spec = Some(spec);
        self.checksum = self.compute_checksum();
        self.signature = None;
        self
    }

    /// Signs the sealed file with `key` (HMAC-SHA256 over the checksum, which covers
    /// everything else).
    pub fn sign(mut self, key: &[u8]) -> PlanFile {
        self.signature = Some(signature(key, &self.checksum));
        self
    }

    /// Refuses a file that is unsigned, or whose signature is not `key`'s.
    pub fn verify_signature(&self, key: &[u8], path: &str) -> Result<(), PlanFileError> {
        use hmac::Mac;
        let Some(found) = &self.signature else {
            return Err(PlanFileError::Unsigned {
                path: path.to_string(),
            });
        };
        let tag = found
            .strip_prefix("hmac-sha256:")
            .and_then(|h| hex::decode(h).ok());
        let mut mac = hmac_of(key);
        mac.update(self.checksum.as_bytes());
        // Compared in constant time.
        match tag {
            Some(tag) if mac.verify_slice(&tag).is_ok() => Ok(()),
            _ => Err(PlanFileError::BadSignature {
                path: path.to_string(),
            }),
        }
    }

    fn compute_checksum(&self) -> String {
        let mut unsealed = self.clone();
        unsealed.checksum = String::new();
        unsealed.signature = None;
        let bytes = serde_json::to_vec(&unsealed).expect("plan file serializes");
        format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
    }

    /// A short identifier of the plan: names its state directory.
    pub fn id(&self) -> String {
        self.checksum
            .trim_start_matches("sha256:")
            .chars()
            .take(16)
            .collect()
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("plan file serializes");
        text.push('\n');
        text
    }

    pub fn write(&self, path: &Path) -> Result<(), PlanFileError> {
        std::fs::write(path, self.to_json()).map_err(|source| PlanFileError::Write {
            path: path.display().to_string(),
            source,
        })
    }

    pub fn load(path: &Path) -> Result<PlanFile, PlanFileError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PlanFileError::Read {
            path: display.clone(),
            source,
        })?;
        Self::from_json(&text, &display)
    }

    pub fn from_json(text: &str, path: &str) -> Result<PlanFile, PlanFileError> {
        if text.trim().is_empty() {
            return Err(PlanFileError::Invalid {
                path: path.to_string(),
                detail: "the file is empty".to_string(),
            });
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| PlanFileError::Invalid {
                path: path.to_string(),
                detail: e.to_string(),
            })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(PLAN_FILE_FORMAT) {
            return Err(PlanFileError::Invalid {
                path: path.to_string(),
                detail: format!("no `\"format\": \"{PLAN_FILE_FORMAT}\"` field"),
            });
        }
        let found = value
            .get("format_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        if found != PLAN_FILE_VERSION {
            return Err(PlanFileError::Version {
                path: path.to_string(),
                found,
                expected: PLAN_FILE_VERSION,
            });
        }
        let file: PlanFile = serde_json::from_value(value).map_err(|e| PlanFileError::Invalid {
            path: path.to_string(),
            detail: e.to_string(),
        })?;
        if file.checksum != file.compute_checksum() {
            return Err(PlanFileError::Checksum {
                path: path.to_string(),
            });
        }
        Ok(file)
    }

    /// Is this meant as a plan file (rather than a spec directory or `.hcl` file)?
    /// Any file but a `.hcl` one: a spec is a directory or a `.hcl` file, so an empty,
    /// truncated or reformatted plan file is read as a plan file and refused with
    /// what is wrong with it, not parsed as HCL.
    pub fn looks_like_plan_file(path: &Path) -> bool {
        path.is_file() && path.extension().is_none_or(|e| e != "hcl")
    }
}

type HmacSha256 = hmac::Hmac<Sha256>;

fn hmac_of(key: &[u8]) -> HmacSha256 {
    use hmac::KeyInit;
    // HMAC takes keys of any length.
    <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

fn signature(key: &[u8], checksum: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac_of(key);
    mac.update(checksum.as_bytes());
    format!("hmac-sha256:{}", hex::encode(mac.finalize().into_bytes()))
}

pub fn fingerprint_key(key: &ResourceKey) -> String {
    format!("{}@{}", key.address(), key.region)
}

/// The resources whose state the plan depends on: every step's target and
/// everything that references one of them, fingerprinted as the plan will leave them
/// (see [`PlanEffects`]).
pub fn fingerprints_for(plan: &Plan, inventory: &Inventory) -> BTreeMap<String, String> {
    let index = InventoryIndex::new(inventory);
    let effects = PlanEffects::of(plan);
    let mut keys: BTreeSet<ResourceKey> = BTreeSet::new();
    for step in &plan.steps {
        let key = step.key();
        for referrer in index.referrers(&key) {
            if link_shapes_plan(&referrer.kind) {
                keys.insert(index.key(referrer.from).clone());
            }
        }
        keys.insert(key);
    }
    keys.into_iter()
        .filter_map(|key| {
            index
                .get(&key)
                .map(|r| (fingerprint_key(&key), fingerprint(&effects.project(r))))
        })
        .collect()
}

/// What a plan itself does to the account. A resource is projected through these
/// effects before it is fingerprinted, so that the plan's own changes — a rule it
/// revoked, a policy it detached, a target deregistered because the plan terminated
/// the instance — never make a half-applied plan look stale when it is resumed.
/// Projection is idempotent: removing what is already gone changes nothing.
#[derive(Debug, Default)]
pub struct PlanEffects {
    removed: BTreeSet<ResourceKey>,
    actions: BTreeMap<ResourceKey, Vec<Action>>,
}

impl PlanEffects {
    pub fn of(plan: &Plan) -> PlanEffects {
        let mut effects = PlanEffects::default();
        for step in &plan.steps {
            if step.action.removes_target() {
                effects.removed.insert(step.key());
            } else {
                effects
                    .actions
                    .entry(step.key())
                    .or_default()
                    .push(step.action.clone());
            }
        }
        effects
    }

    /// Whether `action` on the resource `key` has nothing left to do in an account
    /// where the resource is `live` (`None`: gone). A removal is done once the
    /// resource is gone; a change once projecting it through the action alone
    /// changes nothing that a fingerprint sees (the rule is already revoked, the
    /// policy already detached). Used where an account is observed instead of
    /// trusting a record: a step journaled as started but not finished, a saved step
    /// missing from the plan re-derived from the account.
    pub fn already_done(key: &ResourceKey, action: &Action, live: Option<&Resource>) -> bool {
        let Some(resource) = live else {
            return true;
        };
        if action.removes_target() {
            return false;
        }
        let mut one = PlanEffects::default();
        one.actions.insert(key.clone(), vec![action.clone()]);
        fingerprint(&one.project(resource))
            == fingerprint(&PlanEffects::default().project(resource))
    }

    /// The resource as it is once the plan's steps have run
    /// (`decom_provider::effects::project`).
    pub fn project(&self, resource: &Resource) -> Resource {
        let changes = self
            .actions
            .get(&resource.key())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        decom_provider::effects::project(resource, changes, |gone| {
            self.removed.contains(&gone.to_key())
        })
    }
}

/// Fields that change without anything that matters to a plan changing: usage
/// statistics and lifecycle states (a target mid-termination when a run resumes).
const VOLATILE_FIELDS: [&str; 5] = ["last_used", "stored_bytes", "last_event", "status", "state"];

/// A stable hash of what a plan relies on in a resource: references, attachments,
/// rules, tags, protection flags. List order and usage statistics do not count.
pub fn fingerprint(resource: &Resource) -> String {
    let mut value = serde_json::to_value(resource).expect("resource serializes");
    canonicalize(&mut value);
    let bytes = serde_json::to_vec(&value).expect("value serializes");
    format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
}

fn canonicalize(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for field in VOLATILE_FIELDS {
                map.remove(field);
            }
            for v in map.values_mut() {
                canonicalize(v);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items.iter_mut() {
                canonicalize(v);
            }
            items.sort_by_cached_key(|v| v.to_string());
        }
        _ => {}
    }
}
