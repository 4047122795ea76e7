//! The inventory: every discovered resource of an account, as a versioned JSON
//! snapshot, and an index over it that answers "who references this resource".

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{RefKind, Resource, ResourceKey, ResourceType};

/// Bumped on any incompatible change to the snapshot format (docs/snapshot-format.md).
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// What discovery found: the snapshot format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub format_version: u32,
    pub account_id: String,
    /// The regions that were discovered (IAM, being global, is in every snapshot that
    /// lists an IAM type in `types`).
    pub regions: Vec<String>,
    /// The types that were discovered completely. A type not listed here was not
    /// looked at, so the inventory says nothing about it.
    pub types: Vec<ResourceType>,
    pub resources: Vec<Resource>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "`{path}` is not a valid decom snapshot: {source}\n  hint: snapshots are written by `decom discover -o FILE`; see docs/snapshot-format.md"
    )]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "`{path}` has snapshot format_version {found}, this decom reads version {expected}\n  hint: re-run `decom discover` with this version of decom"
    )]
    Version {
        path: String,
        found: u32,
        expected: u32,
    },
    #[error("`{path}` lists `{key}` twice\n  hint: a snapshot holds each resource once")]
    Duplicate { path: String, key: String },
}

impl Inventory {
    pub fn new(account_id: impl Into<String>, regions: Vec<String>) -> Self {
        Inventory {
            format_version: SNAPSHOT_FORMAT_VERSION,
            account_id: account_id.into(),
            regions,
            types: ResourceType::ALL.to_vec(),
            resources: Vec::new(),
        }
    }

    pub fn from_json(text: &str, path: &str) -> Result<Self, SnapshotError> {
        #[derive(Deserialize)]
        struct VersionProbe {
            format_version: u32,
        }
        let version_error = |found: u32| SnapshotError::Version {
            path: path.to_string(),
            found,
            expected: SNAPSHOT_FORMAT_VERSION,
        };
        // One pass over the text when it parses; the probe (a second pass) only
        // explains a failure, so that another version's snapshot says so.
        let mut inventory: Inventory = match serde_json::from_str::<Inventory>(text) {
            Ok(inventory) if inventory.format_version != SNAPSHOT_FORMAT_VERSION => {
                return Err(version_error(inventory.format_version));
            }
            Ok(inventory) => inventory,
            Err(source) => {
                if let Ok(probe) = serde_json::from_str::<VersionProbe>(text)
                    && probe.format_version != SNAPSHOT_FORMAT_VERSION
                {
                    return Err(version_error(probe.format_version));
                }
                return Err(SnapshotError::Parse {
                    path: path.to_string(),
                    source,
                });
            }
        };
        inventory.normalize();
        // Sorted by key: a resource listed twice is next to itself.
        for pair in inventory.resources.windows(2) {
            if resource_order(&pair[0], &pair[1]).is_eq() {
                return Err(SnapshotError::Duplicate {
                    path: path.to_string(),
                    key: pair[1].key().to_string(),
                });
            }
        }
        Ok(inventory)
    }

    pub fn load(path: &Path) -> Result<Self, SnapshotError> {
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Sorts everything that has no meaning in its order, so that a snapshot's
    /// resource order can never change a plan.
    pub fn normalize(&mut self) {
        self.regions.sort();
        self.regions.dedup();
        self.types.sort();
        self.types.dedup();
        self.resources.sort_by(resource_order);
    }

    /// Canonical JSON (sorted, pretty), as `decom discover` writes it.
    pub fn to_json(&self) -> String {
        let mut sorted = self.clone();
        sorted.normalize();
        let mut text = serde_json::to_string_pretty(&sorted).expect("inventory serializes");
        text.push('\n');
        text
    }

    pub fn covers(&self, ty: ResourceType) -> bool {
        self.types.contains(&ty)
    }
}

/// The order of [`Resource::key`], without building the keys (a sort of 100k
/// resources made millions of them).
fn resource_order(a: &Resource, b: &Resource) -> std::cmp::Ordering {
    fn key(r: &Resource) -> (ResourceType, &str, &str) {
        let ty = r.ty();
        let region = if ty.is_global() {
            crate::model::GLOBAL_REGION
        } else {
            r.region.as_str()
        };
        (ty, region, r.id.as_str())
    }
    key(a).cmp(&key(b))
}

/// A link as seen from the resource it points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Referrer {
    pub from: ResourceKey,
    pub kind: RefKind,
}

/// Lookups over an inventory: by key, and the reverse of every reference.
#[derive(Debug, Clone)]
pub struct InventoryIndex<'a> {
    pub inventory: &'a Inventory,
    by_key: BTreeMap<ResourceKey, usize>,
    referrers: BTreeMap<ResourceKey, Vec<Referrer>>,
    references: Vec<Vec<crate::model::Reference>>,
}

impl<'a> InventoryIndex<'a> {
    pub fn new(inventory: &'a Inventory) -> Self {
        let mut by_key = BTreeMap::new();
        let mut referrers: BTreeMap<ResourceKey, Vec<Referrer>> = BTreeMap::new();
        let mut references = Vec::with_capacity(inventory.resources.len());
        for (i, resource) in inventory.resources.iter().enumerate() {
            let key = resource.key();
            let refs = resource.references();
            for r in &refs {
                referrers.entry(r.to.clone()).or_default().push(Referrer {
                    from: key.clone(),
                    kind: r.kind.clone(),
                });
            }
            references.push(refs);
            by_key.insert(key, i);
        }
        for list in referrers.values_mut() {
            list.sort();
            list.dedup();
        }
        InventoryIndex {
            inventory,
            by_key,
            referrers,
            references,
        }
    }

    pub fn get(&self, key: &ResourceKey) -> Option<&'a Resource> {
        self.by_key.get(key).map(|&i| &self.inventory.resources[i])
    }

    pub fn contains(&self, key: &ResourceKey) -> bool {
        self.by_key.contains_key(key)
    }

    /// Resources in key order.
    pub fn resources(&self) -> impl Iterator<Item = &'a Resource> {
        let inventory = self.inventory;
        self.by_key.values().map(move |&i| &inventory.resources[i])
    }

    /// References held by `key`, pointing at resources that exist in the inventory.
    pub fn references_of(&self, key: &ResourceKey) -> &[crate::model::Reference] {
        self.by_key
            .get(key)
            .map(|&i| self.references[i].as_slice())
            .unwrap_or(&[])
    }

    /// Everything that points at `key` (only resources present in the inventory).
    pub fn referrers(&self, key: &ResourceKey) -> &[Referrer] {
        self.referrers.get(key).map(Vec::as_slice).unwrap_or(&[])
    }
}
