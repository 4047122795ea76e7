//! The details of EBS volumes and snapshots.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Volume {
    /// `available`, `in-use`, `creating`, `deleting`, …
    pub state: String,
    pub size_gib: i32,
    pub volume_type: String,
    pub availability_zone: String,
    pub encrypted: bool,
    /// The snapshot the volume was created from.
    pub snapshot_id: Option<String>,
    pub attachments: Vec<VolumeAttachment>,
    pub created: Option<String>,
}

impl Volume {
    /// The instance the volume is attached to (the first, for a multi-attach volume).
    pub fn attached_instance(&self) -> Option<&VolumeAttachment> {
        self.attachments.first()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeAttachment {
    pub instance_id: String,
    pub device: String,
    /// `DeleteOnTermination`: AWS deletes the volume when the instance terminates.
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    /// `pending`, `completed`, `error`, …
    pub state: String,
    pub volume_id: Option<String>,
    pub size_gib: i32,
    pub description: String,
    /// The account's AMIs whose block devices are made from this snapshot: AWS
    /// refuses to delete it while one is registered (`InvalidSnapshot.InUse`).
    pub images: Vec<String>,
    pub created: Option<String>,
}
