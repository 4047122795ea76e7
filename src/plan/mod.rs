//! The plan: the ordered, reasoned list of steps that takes an account from what
//! discovery found to what the spec asks for.

mod build;
mod model;

pub use build::{LOG_GROUP_CONVENTIONS, PlanOptions, Selection, build_plan};
pub use model::*;
