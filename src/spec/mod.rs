//! The spec loader, the first stage of the pipeline: HCL files in, a validated
//! [`Spec`] (what must be absent, what must be kept) out, or every problem found, each
//! with file, line, column and a caret snippet.
//!
//! The language is described in `docs/spec.md`.

mod arith;
mod blocks;
mod diag;
mod eval;
mod load;
mod model;
mod provider;
mod source;
mod variables;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod input_tests;
#[cfg(test)]
mod tests;

pub use diag::{Diagnostic, Diagnostics, Location, Severity};
pub use load::{LoadOptions, load, parse_sources};
pub use model::{
    Allow, AssumeRole, Decommission, Glob, OrphanPolicy, ProviderBlock, Selector, SelectorKind,
    SourceFile, Spec,
};
pub use source::MAX_SPEC_BYTES;
