//! decom: plan and execute AWS decommissioning from a declarative spec.

pub mod spec;
