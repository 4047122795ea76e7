//! decom's integration tests, built into one binary.

mod util;

mod engine_synth;
