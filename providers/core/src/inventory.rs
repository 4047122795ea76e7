//! The inventory: every discovered resource of an account, as a versioned JSON
//! snapshot, and an index over it that answers "who references this resource".

use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::model::{KeyRef, RefKind, Resource, ResourceKey, ResourceType};
use crate::unread::Facts;

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
    /// Facts of resources that discovery has not read yet (a scoped discovery reads
    /// them only for the resources that can change the plan: `crate::unread`).
    /// Empty in a full discovery; never in a snapshot.
    #[serde(skip)]
    pub unread: BTreeMap<ResourceKey, Facts>,
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
            unread: BTreeMap::new(),
        }
    }

    pub fn from_json(text: &str, path: &str) -> Result<Self, SnapshotError> {
        Self::from_json_bytes(text.as_bytes(), path)
    }

    /// [`Inventory::from_json`] on the file's bytes: serde_json checks the UTF-8 of
    /// the strings as it reads them, so the text is not validated in a pass before.
    pub fn from_json_bytes(text: &[u8], path: &str) -> Result<Self, SnapshotError> {
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
        let mut inventory: Inventory = match serde_json::from_slice::<Inventory>(text) {
            Ok(inventory) if inventory.format_version != SNAPSHOT_FORMAT_VERSION => {
                return Err(version_error(inventory.format_version));
            }
            Ok(inventory) => inventory,
            Err(source) => {
                if let Ok(probe) = serde_json::from_slice::<VersionProbe>(text)
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
        let text = std::fs::read(path).map_err(|source| SnapshotError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_bytes(&text, &path.display().to_string())
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

    /// Canonical JSON (sorted, pretty), as `decom discover` writes it. Only a full
    /// discovery is written: a snapshot has no unread facts.
    pub fn to_json(&self) -> String {
        debug_assert!(
            self.unread.is_empty(),
            "a scoped inventory is never written"
        );
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
    a.key_ref().cmp(&b.key_ref())
}

/// Removes neighbouring duplicates from the front of a sorted slice; returns how many
/// distinct elements it holds.
fn dedup_sorted<T: PartialEq>(list: &mut [T]) -> usize {
    let mut kept = 0;
    for i in 0..list.len() {
        if kept == 0 || list[i] != list[kept - 1] {
            list.swap(kept, i);
            kept += 1;
        }
    }
    kept
}

/// A resource's position in an [`InventoryIndex`]: dense, and in key order (the
/// order of [`ResourceKey`]), so that a set of ids iterates as the set of keys would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId(u32);

impl ResourceId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A link as seen from the resource it points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Referrer {
    pub from: ResourceId,
    pub kind: RefKind,
}

/// Lookups over an inventory: by key or by id, and the reverse of every reference.
///
/// Built once per plan over up to hundreds of thousands of resources, so it holds no
/// ordered map of owned keys: ids are positions in key order, lookups by key go
/// through a hash map of borrowed strings, and referrers are one flat array. Owned
/// keys ([`InventoryIndex::key`]) are built on first use; the planner borrows them
/// ([`InventoryIndex::key_ref`]).
#[derive(Debug, Clone)]
pub struct InventoryIndex<'a> {
    pub inventory: &'a Inventory,
    /// Position in `inventory.resources` of each id.
    positions: Vec<u32>,
    keys: OnceLock<Vec<ResourceKey>>,
    by_key: HashMap<(ResourceType, &'a str, &'a str), ResourceId>,
    /// Referrers of id `i` are `referrers[referrer_start[i]..referrer_start[i + 1]]`.
    referrer_start: Vec<u32>,
    referrers: Vec<Referrer>,
    /// Referrers of keys that are not in the inventory (an AWS managed policy, a
    /// group discovery did not see).
    dangling: HashMap<ResourceKey, Vec<Referrer>>,
}

fn lookup_key<'m>(
    ty: ResourceType,
    region: &'m str,
    id: &'m str,
) -> (ResourceType, &'m str, &'m str) {
    let region = if ty.is_global() {
        crate::model::GLOBAL_REGION
    } else {
        region
    };
    (ty, region, id)
}

impl<'a> InventoryIndex<'a> {
    pub fn new(inventory: &'a Inventory) -> Self {
        let mut positions: Vec<u32> = (0..inventory.resources.len() as u32).collect();
        let sorted = inventory
            .resources
            .windows(2)
            .all(|pair| resource_order(&pair[0], &pair[1]).is_le());
        if !sorted {
            positions.sort_by(|&a, &b| {
                resource_order(
                    &inventory.resources[a as usize],
                    &inventory.resources[b as usize],
                )
            });
        }
        let mut by_key = HashMap::with_capacity_and_hasher(positions.len(), Default::default());
        for (id, &position) in positions.iter().enumerate() {
            let key = inventory.resources[position as usize].key_ref();
            by_key.insert((key.ty, key.region, key.id), ResourceId(id as u32));
        }
        let mut links: Vec<(ResourceId, Referrer)> = Vec::new();
        let mut dangling: HashMap<ResourceKey, Vec<Referrer>> = HashMap::default();
        for (id, &position) in positions.iter().enumerate() {
            let from = ResourceId(id as u32);
            inventory.resources[position as usize].for_each_reference(|kind, ty, region, id| {
                let referrer = Referrer { from, kind };
                match by_key.get(&lookup_key(ty, region, id)) {
                    Some(&to) => links.push((to, referrer)),
                    None => dangling
                        .entry(ResourceKey::new(ty, region, id))
                        .or_default()
                        .push(referrer),
                }
            });
        }
        // By target (a counting sort: targets are dense ids), then as `Referrer`
        // orders. Links were found in `from` order, so each target's list is sorted
        // but for the kinds one referrer has to it.
        let mut counts = vec![0u32; positions.len() + 1];
        for (to, _) in &links {
            counts[to.index() + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut slots = counts.clone();
        let mut placed: Vec<Option<Referrer>> = vec![None; links.len()];
        for (to, referrer) in links {
            let slot = &mut slots[to.index()];
            placed[*slot as usize] = Some(referrer);
            *slot += 1;
        }
        let mut referrer_start = Vec::with_capacity(positions.len() + 1);
        let mut referrers: Vec<Referrer> = Vec::with_capacity(placed.len());
        for bounds in counts.windows(2) {
            referrer_start.push(referrers.len() as u32);
            let first = referrers.len();
            referrers.extend(
                placed[bounds[0] as usize..bounds[1] as usize]
                    .iter_mut()
                    .flat_map(Option::take),
            );
            let list = &mut referrers[first..];
            if !list.is_sorted() {
                list.sort_unstable();
            }
            let kept = first + dedup_sorted(list);
            referrers.truncate(kept);
        }
        referrer_start.push(referrers.len() as u32);
        for list in dangling.values_mut() {
            list.sort();
            list.dedup();
        }
        InventoryIndex {
            inventory,
            positions,
            keys: OnceLock::new(),
            by_key,
            referrer_start,
            referrers,
            dangling,
        }
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Every id, in key order.
    pub fn ids(&self) -> impl Iterator<Item = ResourceId> + use<> {
        (0..self.positions.len() as u32).map(ResourceId)
    }

    pub fn id(&self, key: &ResourceKey) -> Option<ResourceId> {
        self.find(key.ty, &key.region, &key.id)
    }

    /// The id of a resource by its parts, without building its key.
    pub fn find(&self, ty: ResourceType, region: &str, id: &str) -> Option<ResourceId> {
        self.by_key.get(&lookup_key(ty, region, id)).copied()
    }

    /// The key of `id`, owned: the first call builds every key.
    pub fn key(&self, id: ResourceId) -> &ResourceKey {
        let keys = self
            .keys
            .get_or_init(|| self.resources().map(Resource::key).collect());
        &keys[id.index()]
    }

    /// The key of `id`, borrowed from its resource.
    pub fn key_ref(&self, id: ResourceId) -> KeyRef<'a> {
        self.resource(id).key_ref()
    }

    pub fn resource(&self, id: ResourceId) -> &'a Resource {
        &self.inventory.resources[self.positions[id.index()] as usize]
    }

    pub fn get(&self, key: &ResourceKey) -> Option<&'a Resource> {
        self.id(key).map(|id| self.resource(id))
    }

    pub fn contains(&self, key: &ResourceKey) -> bool {
        self.id(key).is_some()
    }

    /// Resources in key order.
    pub fn resources(&self) -> impl Iterator<Item = &'a Resource> + '_ {
        self.ids().map(|id| self.resource(id))
    }

    /// References held by `key` (built on demand: the index keeps only their reverse).
    pub fn references_of(&self, key: &ResourceKey) -> Vec<crate::model::Reference> {
        self.get(key).map(Resource::references).unwrap_or_default()
    }

    pub fn references_by_id(&self, id: ResourceId) -> Vec<crate::model::Reference> {
        self.resource(id).references()
    }

    /// Everything in the inventory that points at `key`, in key order of the referrer.
    pub fn referrers(&self, key: &ResourceKey) -> &[Referrer] {
        match self.id(key) {
            Some(id) => self.referrers_by_id(id),
            None => self.dangling.get(key).map(Vec::as_slice).unwrap_or(&[]),
        }
    }

    pub fn referrers_by_id(&self, id: ResourceId) -> &[Referrer] {
        let start = self.referrer_start[id.index()] as usize;
        let end = self.referrer_start[id.index() + 1] as usize;
        &self.referrers[start..end]
    }
}
