//! The ids of recreated resources: kept durably beside the restore's journal, and
//! carried into every later call that names the old id (a load balancer's security
//! groups, a listener's load balancer and target groups, a rule's referenced group).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use decom_provider::ResourceKey;
use serde_json::Value;

use super::RestoreError;
use crate::apply::durable;

pub const IDS_FILE: &str = "restored-ids.json";

/// Old id → new id of every resource this restore recreated (or found present).
pub struct IdMap {
    path: PathBuf,
    ids: Mutex<BTreeMap<String, String>>,
}

impl IdMap {
    /// Reads what earlier runs of the same restore recorded.
    pub fn open(state_dir: &Path) -> Result<IdMap, RestoreError> {
        let path = state_dir.join(IDS_FILE);
        let ids = if path.exists() {
            let bytes = std::fs::read(&path).map_err(|source| RestoreError::Read {
                path: path.display().to_string(),
                source,
            })?;
            serde_json::from_slice(&bytes).map_err(|e| RestoreError::BadPlanFile {
                path: path.display().to_string(),
                detail: e.to_string(),
            })?
        } else {
            BTreeMap::new()
        };
        Ok(IdMap {
            path,
            ids: Mutex::new(ids),
        })
    }

    /// Records `old` → `new` durably before it is used.
    pub fn record(&self, old: &str, new: &str) -> Result<(), RestoreError> {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        if ids.get(old).is_some_and(|n| n == new) {
            return Ok(());
        }
        let mut next = ids.clone();
        next.insert(old.to_string(), new.to_string());
        let mut bytes = serde_json::to_vec_pretty(&next).unwrap_or_default();
        bytes.push(b'\n');
        durable::write_file(&self.path, &bytes).map_err(|source| RestoreError::Write {
            path: self.path.display().to_string(),
            source,
        })?;
        *ids = next;
        Ok(())
    }

    pub fn get(&self, old: &str) -> Option<String> {
        self.ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(old)
            .cloned()
    }

    /// `key` with its id replaced by the new one, if it was recreated.
    pub fn key(&self, key: &ResourceKey) -> ResourceKey {
        match self.get(&key.id) {
            Some(id) => ResourceKey::new(key.ty, key.region.clone(), id),
            None => key.clone(),
        }
    }

    /// `value` with every string that is an old id replaced by its new id.
    pub fn apply(&self, value: &Value) -> Value {
        let ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        replace(value, &ids)
    }
}

fn replace(value: &Value, ids: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(s) => match ids.get(s).or_else(|| dns_name(s).and_then(|n| ids.get(&n))) {
            Some(new) => Value::String(new.clone()),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| replace(v, ids)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), replace(v, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An AWS DNS name (a load balancer's) in lower case, as the renamed spellings
/// are: DNS names compare without case, and a CNAME may hold capitals.
fn dns_name(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    (lower != s && lower.trim_end_matches('.').ends_with(".amazonaws.com")).then_some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_strings_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let map = IdMap::open(dir.path()).expect("open");
        map.record("sg-old", "sg-new").expect("record");
        let value = serde_json::json!({
            "groups": ["sg-old", "sg-other"],
            "note": "sg-old is not replaced inside a sentence",
            "nested": {"group_id": "sg-old"},
        });
        let replaced = map.apply(&value);
        assert_eq!(replaced["groups"][0], "sg-new");
        assert_eq!(replaced["groups"][1], "sg-other");
        assert_eq!(replaced["note"], value["note"]);
        assert_eq!(replaced["nested"]["group_id"], "sg-new");
        // A DNS name is matched without case.
        map.record(
            "web-1.us-east-1.elb.amazonaws.com",
            "web-2.us-east-1.elb.amazonaws.com",
        )
        .expect("record");
        let cname = serde_json::json!(["WEB-1.us-east-1.elb.amazonaws.com"]);
        assert_eq!(map.apply(&cname)[0], "web-2.us-east-1.elb.amazonaws.com");
        // Durable: a second open reads it back.
        let again = IdMap::open(dir.path()).expect("reopen");
        assert_eq!(again.get("sg-old").as_deref(), Some("sg-new"));
    }
}
