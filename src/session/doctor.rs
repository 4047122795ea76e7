//! `decom doctor`: what a first run against an account needs, checked without
//! changing anything: who the credentials belong to, the account guard, each
//! region, and every permission decom calls (docs/aws.md).

use decom_aws::{PermissionCheck, Verdict};
use decom_provider::{CallerIdentity, Provider, ProviderError};

use super::{Access, Account, SessionError};
use crate::guard::{AccountGuard, GuardError};
use crate::spec::Spec;

/// What `decom doctor` found.
pub struct Checkup {
    pub identity: CallerIdentity,
    pub guard: GuardCheck,
    pub regions: Vec<String>,
    /// Every permission of docs/aws.md, in its order; regional ones once per region.
    pub permissions: Vec<PermissionCheck>,
}

/// The account guard against the caller's account.
pub enum GuardCheck {
    /// Neither the spec nor `--allowed-account-id` names an account.
    Unguarded,
    Allowed,
    Refused(GuardError),
}

/// Reaches the account as `plan` would (the spec's profile, role and regions, else
/// the environment's), then checks it; only read calls are made. Fails only when
/// the caller cannot be told (no credentials, an unreachable STS): everything else
/// is a finding of the checkup.
pub async fn doctor(
    spec: Option<&Spec>,
    allowed_account_ids: &[String],
    regions: &[String],
) -> Result<Checkup, SessionError> {
    let account = Account::for_spec(None, spec, regions, Access::Read).await?;
    let regions = account.regions(spec, regions);
    if regions.is_empty() {
        return Err(SessionError::NoRegion);
    }
    let guard = AccountGuard {
        provider: spec.and_then(|s| s.provider.as_ref()),
        flag: allowed_account_ids,
    };
    guard.check_regions(&regions)?;
    let Account::Aws(aws) = &account else {
        return Err(SessionError::ReadOnly);
    };
    let identity = aws
        .caller_identity()
        .await
        .map_err(SessionError::Identity)?;
    let guard = if !guard.is_configured() {
        GuardCheck::Unguarded
    } else {
        match guard.check_account(&identity, false) {
            Ok(()) => GuardCheck::Allowed,
            Err(refused) => GuardCheck::Refused(refused),
        }
    };
    let permissions = aws.check_permissions(&identity, &regions).await;
    Ok(Checkup {
        identity,
        guard,
        regions,
        permissions,
    })
}

/// Who the ambient credentials belong to, and the regions a new spec for them names:
/// `regions`, else the environment's or profile's (`decom init`).
pub async fn identify(regions: &[String]) -> Result<(CallerIdentity, Vec<String>), SessionError> {
    let mut account = Account::connect(None, None, regions.to_vec(), Access::Read).await?;
    let regions = account.regions(None, regions);
    if regions.is_empty() {
        return Err(SessionError::NoRegion);
    }
    let unguarded = AccountGuard {
        provider: None,
        flag: &[],
    };
    let identity = account.guard(unguarded, &regions, Access::Read).await?;
    Ok((identity, regions))
}

impl Checkup {
    /// Why calls in `region` could not be made at all (a disabled opt-in region, an
    /// unreachable endpoint): the first failure, when no call there got an answer
    /// that tells a permission.
    pub fn region_problem(&self, region: &str) -> Option<&ProviderError> {
        let here: Vec<&PermissionCheck> = self
            .permissions
            .iter()
            .filter(|c| c.region.as_deref() == Some(region))
            .collect();
        if here
            .iter()
            .any(|c| matches!(c.verdict, Verdict::Allowed | Verdict::Denied(_)))
        {
            return None;
        }
        here.iter().find_map(|c| match &c.verdict {
            Verdict::Unknown(e) => Some(e),
            _ => None,
        })
    }

    /// The checks that stop decom: a refused permission or one that could not be
    /// told (apply's unchecked ones are not: the simulator is optional).
    pub fn problems(&self) -> impl Iterator<Item = &PermissionCheck> {
        self.permissions
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Denied(_) | Verdict::Unknown(_)))
    }

    /// Whether decom can work on this account: the guard allows it and every
    /// permission checked is allowed.
    pub fn is_ready(&self) -> bool {
        !matches!(self.guard, GuardCheck::Refused(_)) && self.problems().next().is_none()
    }
}
