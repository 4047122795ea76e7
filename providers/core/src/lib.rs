//! The bottom of decom's crate graph: the resource model, the inventory snapshot, the
//! AWS deletion rules and the provider interface. No AWS SDK type appears here.

pub mod inventory;
pub mod model;
pub mod provider;
pub mod rules;

pub use inventory::{Inventory, InventoryIndex, Referrer, ResourceId, SNAPSHOT_FORMAT_VERSION};
pub use model::*;
pub use provider::*;
pub use rules::{Obstacle, blocking_referrers, intrinsic_obstacles, obstacles_to_delete};
