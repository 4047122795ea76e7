//! The bottom of decom's crate graph: the resource model, the inventory snapshot, the
//! facts about AWS that the planner, the simulator, the plan file and the audit share
//! (what blocks a deletion, what goes with an owner, what an action does, who uses a
//! resource), and the provider interface. No AWS SDK type appears here.

pub mod effects;
pub mod inventory;
pub mod model;
pub mod ownership;
pub mod provider;
pub mod rate_limits;
pub mod restore;
pub mod rules;
pub mod unread;
pub mod usage;

pub use inventory::{Inventory, InventoryIndex, Referrer, ResourceId, SNAPSHOT_FORMAT_VERSION};
pub use model::*;
pub use provider::*;
pub use rate_limits::{ActionFamily, RateKey, TokenBucket};
pub use restore::{Restorability, RestoreAction, RestoreCall, Restored, restorability};
pub use rules::{Obstacle, blocking_referrers, intrinsic_obstacles, obstacles_to_delete};
pub use unread::{Fact, FactRequest, Facts};
