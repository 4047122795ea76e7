//! decom's test support, shared by the root package's tests and benches and by
//! decom-aws's tests: the moto server (installed and started on first use), one moto
//! account per test, and the stacks the moto tests build with the SDK.
//!
//! - [`moto_server`]: the server, one per test binary.
//! - [`sdk`]: SDK clients, accounts per test, small helpers.
//! - [`account`]: a test's account driven from the test process, with a binary
//!   (`decom`) run against it as a user's shell would.
//! - [`child`]: a test run in a child process whose environment points at moto (for
//!   code that reads the AWS environment itself), with [`moto_test!`].
//! - [`enforcing`]: a second moto server, which enforces IAM, started only for the
//!   tests that need it, and users whose policy allows exactly what a test says.
//! - [`stack`]: the `web` stack and its `neighbour`, and the census of an account.

pub mod account;
pub mod child;
pub mod enforcing;
pub mod moto_server;
pub mod sdk;
pub mod stack;

pub use moto_server::unreachable_endpoint;
pub use sdk::{REGION, Sdk, in_parallel};
