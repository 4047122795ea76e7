//! A saved plan checked before it runs: everything `apply FILE` must pass, each
//! before any call that could change the account.

use std::path::{Path, PathBuf};

use decom_provider::{CallerIdentity, DiscoveryProgress, DiscoveryRequest, Inventory};

use super::{Access, Account, SessionError};
use crate::apply::JOURNAL_FILE;
use crate::guard::AccountGuard;
use crate::planfile::PlanFile;
use crate::review;
use crate::spec::Spec;

/// What a saved plan is checked with, besides the account.
pub struct SavedPlanChecks<'a> {
    /// Run against this snapshot through the simulator instead of AWS.
    pub inventory: Option<&'a Path>,
    /// The spec at hand (`--spec DIR`), with its directory for messages.
    pub spec_at_hand: Option<(&'a Spec, String)>,
    /// `--allowed-account-id`.
    pub allowed_account_ids: &'a [String],
    /// `DECOM_PLAN_SIGNING_KEY`: when set, only files it signed run.
    pub signing_key: Option<&'a [u8]>,
    /// Where plans keep their state (`--state-dir`): a journal in the plan's
    /// directory there means a resumed run.
    pub state_root: PathBuf,
}

/// A saved plan that passed every check, and what checking it found.
pub struct CheckedPlan {
    pub file: PlanFile,
    pub account: Account,
    pub identity: CallerIdentity,
    /// The account as just read.
    pub live: Inventory,
    /// Resources that now match the spec but are not in the plan, said as a line.
    pub notice: Option<String>,
}

/// Checks, in this order: the file's seal and (with a signing key) its signature;
/// the spec it embeds, against the plan's hash and the spec at hand; the account
/// guard; the account re-read and compared with the plan's fingerprints; and the
/// plan re-derived from its spec on that account, where a saved step the spec does
/// not produce is refused.
pub async fn check_saved_plan(
    path: &Path,
    checks: &SavedPlanChecks<'_>,
    progress: &dyn DiscoveryProgress,
) -> Result<CheckedPlan, SessionError> {
    let display = path.display().to_string();
    let file = PlanFile::load(path)?;
    if let Some(key) = checks.signing_key {
        file.verify_signature(key, &display)?;
    }
    let spec = review::embedded_spec(&file, &display)?;
    if let Some((at_hand, dir)) = &checks.spec_at_hand {
        review::check_spec_dir(&file, &display, at_hand, dir)?;
    }
    // The profile and role the plan was made with, as recorded in the file.
    let mut account = Account::connect(
        checks.inventory,
        file.connection.as_ref(),
        file.regions.clone(),
        Access::Change,
    )
    .await?;
    let guard = AccountGuard {
        provider: spec.provider.as_ref(),
        flag: checks.allowed_account_ids,
    };
    let identity = account.guard(guard, &file.regions, Access::Change).await?;
    if identity.account_id != file.account_id {
        return Err(SessionError::OtherAccount {
            planned: file.account_id.clone(),
            found: identity.account_id,
            arn: identity.arn,
        });
    }
    let request = DiscoveryRequest {
        regions: file.regions.clone(),
        types: file.types.iter().copied().collect(),
    };
    let live = account.discover(&request, progress).await?;
    let changes = crate::apply::stale_changes(&file, &live);
    if !changes.is_empty() {
        return Err(SessionError::Stale { changes });
    }
    let rederived = review::rederive(&file.plan, &spec, &live, jiff::Timestamp::now());
    // A resumed run executes the file its first run checked (the state directory is
    // named after the file's checksum); the steps that run completed are no longer
    // what the spec derives from the account, so only a first run is held to it.
    let resumed = checks
        .state_root
        .join(file.id())
        .join(JOURNAL_FILE)
        .is_file();
    if !rederived.unreviewed.is_empty() && !resumed {
        return Err(SessionError::Unreviewed {
            path: display,
            steps: rederived.unreviewed,
        });
    }
    let notice = rederived.notice();
    Ok(CheckedPlan {
        file,
        account,
        identity,
        live,
        notice,
    })
}
