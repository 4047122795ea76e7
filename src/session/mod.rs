//! Sessions: what a front end runs between its arguments and its output — reach
//! the account behind its guard, discover, plan, check a saved plan before it runs.
//! Every decision is made here; nothing is printed: warnings and notices come back
//! as data, progress goes through the [`DiscoveryProgress`] the caller gives.

mod account;
mod doctor;
mod saved;

use std::collections::BTreeSet;

use decom_provider::{
    CallerIdentity, DiscoveryProgress, DiscoveryRequest, Inventory, ProviderError, ResourceType,
    inventory::SnapshotError,
};

pub use account::{Access, Account, connection_of};
pub use doctor::{Checkup, GuardCheck, doctor, identify};
pub use saved::{CheckedPlan, SavedPlanChecks, check_saved_plan};

use decom_aws::{Explained, Remedy};

use crate::guard::{self, AccountGuard, GuardError};
use crate::plan::{Plan, build_plan};
use crate::planfile::PlanFileError;
use crate::review::ReviewError;
use crate::select::{plan_options, select, types_to_discover};
use crate::spec::Spec;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    AlreadyDiscovered(#[from] decom_sim::AlreadyDiscovered),
    #[error(transparent)]
    AwsSetup(#[from] decom_aws::AwsSetupError),
    #[error("cannot tell which account the credentials belong to: {}", identity_failure(.0))]
    Identity(ProviderError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(
        "discovery failed, and decom never works from a partial inventory (it could hide a dependency): {}",
        Explained(.0)
    )]
    Discovery(ProviderError),
    #[error(transparent)]
    PlanFile(#[from] PlanFileError),
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error(
        "refusing to apply: the plan was made for account {planned}, the credentials are for account {found} ({arn})"
    )]
    OtherAccount {
        planned: String,
        found: String,
        arn: String,
    },
    #[error(
        "the account changed since the plan was made:\n{}\nrefusing to apply a stale plan\n  hint: run `decom plan -out FILE` again and review the new plan",
        list(.changes)
    )]
    Stale { changes: Vec<String> },
    #[error(
        "steps in `{path}` that its spec does not produce on this account:\n{}\nrefusing to apply `{path}`: {} step(s) were not derived from the reviewed spec\n  hint: the plan file was changed after `decom plan` wrote it; run `decom plan -out` again and review the new plan",
        list(.steps),
        .steps.len()
    )]
    Unreviewed { path: String, steps: Vec<String> },
    #[error(
        "no region to read\n  hint: pass --region, set AWS_REGION, or list `regions` in the spec's provider block"
    )]
    NoRegion,
    #[error("internal error: a snapshot opened read-only cannot be changed")]
    ReadOnly,
}

impl SessionError {
    /// The failed calls behind this error, for the full error chain of each that
    /// `-v` shows.
    pub fn provider_errors(&self) -> Vec<&ProviderError> {
        match self {
            SessionError::Identity(e) | SessionError::Discovery(e) => {
                std::iter::once(e).chain(e.also_denied()).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The identity call's failure with its hint; without one decom knows, the ways to
/// give credentials.
fn identity_failure(error: &ProviderError) -> String {
    if Remedy::of(error).is_some() {
        Explained(error).to_string()
    } else {
        format!(
            "{}\n  hint: check the AWS credentials in use (AWS_PROFILE, `aws sso login`, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or plan offline against a snapshot with --inventory FILE",
            Explained(error)
        )
    }
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("  - {item}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A spec planned against an account.
pub struct Planned {
    pub plan: Plan,
    pub inventory: Inventory,
    pub spec: Spec,
    pub account: Account,
    pub identity: CallerIdentity,
    /// Rendered warnings for the person running it (selectors that match nothing, no
    /// account guard), each with its snippet.
    pub warnings: Vec<String>,
}

/// Spec + account -> plan: the guard, discovery of what the spec needs (the listings,
/// then the facts that can change its plan: [`crate::scope`]), selection, planning.
/// A live account without a guard is planned, and the plan says so; changing one
/// (`access`) is refused.
pub async fn plan_spec(
    spec: Spec,
    mut account: Account,
    allowed_account_ids: &[String],
    access: Access,
    progress: &dyn DiscoveryProgress,
) -> Result<Planned, SessionError> {
    let regions = account.regions(Some(&spec), &[]);
    let account_guard = AccountGuard {
        provider: spec.provider.as_ref(),
        flag: allowed_account_ids,
    };
    let identity = account.guard(account_guard, &regions, access).await?;
    let unguarded = account.is_live() && !account_guard.is_configured();
    let request = DiscoveryRequest {
        regions,
        types: types_to_discover(&spec),
    };
    let options = plan_options(&spec, jiff::Timestamp::now());
    let inventory = account
        .discover_for_spec(&spec, &options, &request, progress)
        .await?;
    let resolved = select(&spec, &inventory);
    let mut warnings: Vec<String> = resolved.warnings.iter().map(|w| spec.render(w)).collect();
    let mut plan = build_plan(&inventory, &resolved.selection, &options);
    if unguarded {
        let warning = guard::unguarded_warning(&identity.account_id);
        warnings.push(format!("warning: {warning}"));
        plan.warnings.push(warning);
    }
    Ok(Planned {
        plan,
        inventory,
        spec,
        account,
        identity,
        warnings,
    })
}

/// Reads the account as `discover` and `audit` do, without planning: the guard (a
/// read needs none, but a configured one is held to), then every resource of
/// `types` in the regions asked, else the spec's, else the account's default.
pub async fn read_account(
    account: &mut Account,
    spec: Option<&Spec>,
    regions: &[String],
    types: BTreeSet<ResourceType>,
    progress: &dyn DiscoveryProgress,
) -> Result<Inventory, SessionError> {
    let regions = account.regions(spec, regions);
    if regions.is_empty() {
        return Err(SessionError::NoRegion);
    }
    let guard = AccountGuard {
        provider: spec.and_then(|s| s.provider.as_ref()),
        flag: &[],
    };
    account.guard(guard, &regions, Access::Read).await?;
    account
        .discover(&DiscoveryRequest { regions, types }, progress)
        .await
}
