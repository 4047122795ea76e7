//! decom's integration tests, built into one binary.

#[path = "../providers/aws/tests/moto_server.rs"]
mod moto_server;
mod util;

mod apply;
mod audit;
mod cli;
mod engine_synth;
mod facts;
mod fixtures;
mod hardening;
mod moto;
mod properties;
mod snapshots;
