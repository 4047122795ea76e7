//! decom's integration tests, built into one binary.

mod util;

mod apply;
mod apply_archive;
mod apply_lock;
mod apply_report;
mod apply_resume;
mod audit;
mod autoscaling;
mod cli;
mod cli_snapshots;
mod dns;
mod engine_synth;
mod facts;
mod first_contact;
mod fixtures;
mod hardening;
mod moto;
mod moto_alarms;
mod moto_dns;
mod moto_ecs;
mod moto_fleet;
mod moto_restore;
mod properties;
mod restore;
mod scope;
mod snapshots;
