//! The resource model: what decom knows of one AWS resource, in its own types.
//!
//! Every reference between resources is derived from the typed details by
//! [`Resource::references`], so the planner, the simulator and the audit read the
//! links from one place.

mod details;
mod key;
mod kind;
mod read;
mod references;
mod resource;

pub use details::*;
pub use key::{KeyRef, ResourceKey};
pub use kind::{GLOBAL_REGION, ResourceType, Service, UnknownType};
pub use references::{RefKind, Reference, is_customer_policy};
pub use resource::{Details, Resource};
