//! decom's integration tests, built into one binary.

mod util;

mod apply;
mod audit;
mod cli;
mod cli_snapshots;
mod engine_synth;
mod fixtures;
mod hardening;
mod moto;
mod properties;
mod snapshots;
