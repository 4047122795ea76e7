//! decom's engine: spec (HCL) -> inventory -> graph -> plan -> apply -> report.
//! The binary in `main.rs` is a thin shell over this library.

pub mod apply;
pub mod audit;
pub mod diff;
pub mod guard;
pub mod plan;
pub mod planfile;
pub mod render;
pub mod restore;
pub mod review;
pub mod scope;
pub mod select;
pub mod session;
pub mod spec;
