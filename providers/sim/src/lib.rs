//! decom's simulator: an in-memory AWS account, loaded from a snapshot, that enforces
//! AWS's deletion rules and models its slowness and flakiness; plus the builders for
//! fixtures and synthetic accounts. See docs/simulator.md.

mod account;
mod answers;
pub mod build;
mod discovery;
pub mod knobs;
mod provider;
mod snapshot;
pub mod synth;
mod throttle;

pub use knobs::{Delay, Knobs};
pub use provider::{SimEvent, SimOutcome, SimProvider};
pub use snapshot::{AlreadyDiscovered, ReadOnlySnapshot};

#[cfg(test)]
mod provider_tests;
#[cfg(test)]
mod restore_tests;
