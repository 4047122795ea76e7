//! The reviewed plan is the executed plan. A plan file carries the spec it was made
//! from; before the file runs, the spec is loaded again from it and checked against
//! the plan's `spec_hash` (and against the spec directory at hand, where there is
//! one), and the plan is derived again from that spec against the live account. A
//! saved step the spec does not produce now — and whose effect is not already in
//! the account — was never reviewed, and the file is refused. The checksum alone
//! cannot tell: whoever edits a plan can recompute it. Against whoever rewrites the
//! plan and its embedded spec together, only the signature helps
//! ([`PlanFile::verify_signature`]).

use std::collections::BTreeSet;

use decom_provider::{Action, Inventory, InventoryIndex, ResourceKey};

use crate::plan::{Plan, build_plan};
use crate::planfile::{EmbeddedFile, EmbeddedSpec, PlanEffects, PlanFile};
use crate::select::{plan_options, select};
use crate::spec::{self, LoadOptions, SourceFile, Spec};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "`{path}` carries no spec, so it cannot be checked against what was reviewed\n  hint: run `decom plan -out FILE` again with this version of decom"
    )]
    NoSpec { path: String },
    #[error(
        "the spec embedded in `{path}` does not load: {diagnostics}\n  hint: the plan file was changed after `decom plan` wrote it; run `decom plan -out` again"
    )]
    EmbeddedInvalid { path: String, diagnostics: String },
    #[error(
        "the spec embedded in `{path}` hashes to {found}, the plan says {expected}: the plan was not made from it\n  hint: never edit a plan file; run `decom plan -out` again and review the new plan"
    )]
    EmbeddedMismatch {
        path: String,
        found: String,
        expected: String,
    },
    #[error(
        "the spec in `{dir}` is not the one `{path}` was made from ({found}, the plan says {expected})\n  hint: apply the plan made from this commit's spec, or run `decom plan -out` on it again"
    )]
    SpecDirMismatch {
        dir: String,
        path: String,
        found: String,
        expected: String,
    },
}

/// The spec as a plan file records it.
pub fn embed(spec: &Spec) -> EmbeddedSpec {
    EmbeddedSpec {
        files: spec
            .sources
            .iter()
            .map(|s| EmbeddedFile {
                name: s.file_name.clone(),
                text: s.text.clone(),
            })
            .collect(),
        variables: spec.variables.clone(),
    }
}

/// Loads the spec embedded in `file` and checks that it is the one the plan was
/// made from.
pub fn embedded_spec(file: &PlanFile, path: &str) -> Result<Spec, ReviewError> {
    let embedded = file.spec.as_ref().ok_or_else(|| ReviewError::NoSpec {
        path: path.to_string(),
    })?;
    let sources = embedded
        .files
        .iter()
        .map(|f| SourceFile {
            display_path: format!("{path}:{}", f.name),
            file_name: f.name.clone(),
            text: f.text.clone(),
        })
        .collect();
    let options = LoadOptions {
        vars: embedded
            .variables
            .iter()
            .map(|(name, value)| (name.clone(), as_var_flag(value)))
            .collect(),
        var_files: Vec::new(),
    };
    let spec =
        spec::parse_sources(sources, &options).map_err(|d| ReviewError::EmbeddedInvalid {
            path: path.to_string(),
            diagnostics: d.to_string(),
        })?;
    for expected in [&file.spec_hash, &file.plan.spec_hash] {
        if spec.hash != *expected {
            return Err(ReviewError::EmbeddedMismatch {
                path: path.to_string(),
                found: spec.hash.clone(),
                expected: expected.clone(),
            });
        }
    }
    Ok(spec)
}

/// A recorded value (rendered as HCL) as `-var` takes it: a string's contents, or
/// the expression. A value that does not come back the same changes the spec's
/// hash, so [`embedded_spec`] refuses it rather than load another spec.
fn as_var_flag(rendered: &str) -> String {
    match hcl_edit::parser::parse_expr(rendered) {
        Ok(hcl_edit::expr::Expression::String(s)) => s.value().clone(),
        _ => rendered.to_string(),
    }
}

/// Checks the spec directory at hand (the reviewed commit's, in CI) against the plan.
pub fn check_spec_dir(
    file: &PlanFile,
    path: &str,
    spec: &Spec,
    dir: &str,
) -> Result<(), ReviewError> {
    if spec.hash == file.spec_hash {
        Ok(())
    } else {
        Err(ReviewError::SpecDirMismatch {
            dir: dir.to_string(),
            path: path.to_string(),
            found: spec.hash.clone(),
            expected: file.spec_hash.clone(),
        })
    }
}

/// The saved plan held against the plan its spec gives on the live account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rederived {
    /// Saved steps the spec does not produce and whose effect is not in the account:
    /// not reviewed. Any makes the file unfit to apply.
    pub unreviewed: Vec<String>,
    /// Resources the spec now removes that the saved plan does not (drift since the
    /// plan: a new resource tagged for deletion). The saved plan leaves them alone.
    pub new_targets: Vec<ResourceKey>,
}

impl Rederived {
    /// The line apply prints and records about `new_targets`.
    pub fn notice(&self) -> Option<String> {
        match self.new_targets.len() {
            0 => None,
            n => Some(format!(
                "{n} resource{} now match{} the spec and {} not in this plan; run plan again to include {}: {}",
                if n == 1 { "" } else { "s" },
                if n == 1 { "es" } else { "" },
                if n == 1 { "is" } else { "are" },
                if n == 1 { "it" } else { "them" },
                self.new_targets
                    .iter()
                    .map(ResourceKey::address)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// Derives the plan again from `spec` on `live` and compares it with `saved`.
pub fn rederive(saved: &Plan, spec: &Spec, live: &Inventory, now: jiff::Timestamp) -> Rederived {
    let selection = select(spec, live).selection;
    let again = build_plan(live, &selection, &plan_options(spec, now));
    compare(saved, &again, live)
}

fn compare(saved: &Plan, again: &Plan, live: &Inventory) -> Rederived {
    let derived: BTreeSet<(ResourceKey, &Action)> =
        again.steps.iter().map(|s| (s.key(), &s.action)).collect();
    let index = InventoryIndex::new(live);
    let unreviewed = saved
        .steps
        .iter()
        .filter(|step| {
            let key = step.key();
            !derived.contains(&(key.clone(), &step.action))
                && !PlanEffects::already_done(&key, &step.action, index.get(&key))
        })
        .map(|step| {
            format!(
                "step {}: {} {}",
                step.order,
                step.action.describe(),
                step.address
            )
        })
        .collect();
    let saved_keys: BTreeSet<ResourceKey> = saved.steps.iter().map(|s| s.key()).collect();
    let new_targets: BTreeSet<ResourceKey> = again
        .steps
        .iter()
        .filter(|s| s.action.removes_target())
        .map(|s| s.key())
        .filter(|k| !saved_keys.contains(k))
        .collect();
    Rederived {
        unreviewed,
        new_targets: new_targets.into_iter().collect(),
    }
}
