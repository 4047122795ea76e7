//! The account guard, checked before discovery: the regions a command may work in
//! and the accounts it may work on. A command that changes a live account requires
//! the guard; one that only reads says when there is none.

use decom_provider::CallerIdentity;

use crate::spec::ProviderBlock;

/// The accounts a run may work on: the spec's `allowed_account_ids` and those given
/// on the command line (`--allowed-account-id`). When both are given, the account
/// must be in both.
#[derive(Debug, Clone, Copy)]
pub struct AccountGuard<'a> {
    pub provider: Option<&'a ProviderBlock>,
    pub flag: &'a [String],
}

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(
        "region `{region}` is not in the spec's regions ({allowed}) at {location}\n  hint: add it to `regions` in the provider block, or do not ask for it"
    )]
    RegionOutside {
        region: String,
        allowed: String,
        location: String,
    },
    #[error(
        "refusing to work on account {account} ({arn}): {source_of_list} allows only {allowed}\n  hint: check AWS_PROFILE and the credentials in use"
    )]
    WrongAccount {
        account: String,
        arn: String,
        allowed: String,
        /// `the spec (allowed_account_ids at main.hcl:3)` or `--allowed-account-id`.
        source_of_list: String,
    },
    #[error(
        "refusing to change account {account} ({arn}) without an account guard: the spec's provider block has no `allowed_account_ids`\n  hint: add `allowed_account_ids = [\"{account}\"]` to the `provider \"aws\"` block, or pass --allowed-account-id {account} after checking that this is the account you mean"
    )]
    Unguarded { account: String, arn: String },
}

impl AccountGuard<'_> {
    fn spec_ids(&self) -> &[String] {
        self.provider
            .map(|p| p.allowed_account_ids.as_slice())
            .unwrap_or_default()
    }

    /// Whether any list of allowed accounts is configured.
    pub fn is_configured(&self) -> bool {
        !self.spec_ids().is_empty() || !self.flag.is_empty()
    }

    /// Refuses a region outside the spec's `regions`.
    pub fn check_regions(&self, regions: &[String]) -> Result<(), GuardError> {
        let Some(block) = self.provider else {
            return Ok(());
        };
        match regions
            .iter()
            .find(|r| !block.regions.is_empty() && !block.regions.contains(r))
        {
            Some(outside) => Err(GuardError::RegionOutside {
                region: outside.clone(),
                allowed: block.regions.join(", "),
                location: block
                    .regions_location
                    .as_ref()
                    .unwrap_or(&block.location)
                    .to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Refuses an account outside the configured lists; with `required` (a command
    /// that changes a live account), refuses when no list is configured at all.
    pub fn check_account(
        &self,
        identity: &CallerIdentity,
        required: bool,
    ) -> Result<(), GuardError> {
        let spec_ids = self.spec_ids();
        if !spec_ids.is_empty() && !spec_ids.contains(&identity.account_id) {
            let block = self.provider.map(|p| {
                p.allowed_account_ids_location
                    .as_ref()
                    .unwrap_or(&p.location)
                    .to_string()
            });
            return Err(GuardError::WrongAccount {
                account: identity.account_id.clone(),
                arn: identity.arn.clone(),
                allowed: spec_ids.join(", "),
                source_of_list: format!(
                    "the spec (allowed_account_ids at {})",
                    block.unwrap_or_default()
                ),
            });
        }
        if !self.flag.is_empty() && !self.flag.contains(&identity.account_id) {
            return Err(GuardError::WrongAccount {
                account: identity.account_id.clone(),
                arn: identity.arn.clone(),
                allowed: self.flag.join(", "),
                source_of_list: "--allowed-account-id".to_string(),
            });
        }
        if required && !self.is_configured() {
            return Err(GuardError::Unguarded {
                account: identity.account_id.clone(),
                arn: identity.arn.clone(),
            });
        }
        Ok(())
    }
}

/// The plan's and stderr's word when a plan of a live account has no guard.
pub fn unguarded_warning(account: &str) -> String {
    format!(
        "no account guard: the spec's provider block has no `allowed_account_ids`; this plan was made against account {account}, whichever the credentials reached, and `apply` will refuse it without `allowed_account_ids` or --allowed-account-id"
    )
}
