//! Decoding the `provider "aws"` block into the model: the regions and accounts decom
//! may work in and the credentials it works with, and the shape check of region
//! names (here and in selectors).

use hcl_edit::Span;
use hcl_edit::structure::{Attribute, Block};

use super::diag::Diagnostic;
use super::load::{Loader, label_span};
use super::model::{AssumeRole, ProviderBlock};

const PROVIDER_ATTRIBUTES: [&str; 3] = ["regions", "allowed_account_ids", "profile"];
const ASSUME_ROLE_ATTRIBUTES: [&str; 3] = ["role_arn", "session_name", "external_id"];
const ACCOUNT_ID_HINT: &str =
    "an account id has 12 digits, written as a string: `\"123456789012\"`";
const ALLOWED_ACCOUNTS_HINT: &str =
    "name the accounts decom may touch: `allowed_account_ids = [\"123456789012\"]`";
const REGION_EXAMPLES: &str = "`us-east-1`, `eu-central-2`, `ap-southeast-4`, \
     `us-gov-west-1`, `cn-north-1`";

/// Where a region name may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RegionUse {
    /// The provider's `regions`: where decom discovers and acts.
    Provider,
    /// A selector's `regions`, which may also name the `global` region of IAM.
    Selector,
}

/// Whether `name` has the shape of an AWS region name,
/// `[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+`: `us-east-1`, `us-gov-west-1`,
/// `us-isob-east-1`, `il-central-1`, ... (not whether AWS has that region).
pub(super) fn is_region_name(name: &str) -> bool {
    let mut parts: Vec<&str> = name.split('-').collect();
    let Some(number) = parts.pop() else {
        return false;
    };
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    let partition = |s: &str| {
        s == "gov"
            || s.strip_prefix("iso")
                .is_some_and(|rest| rest.len() <= 1 && rest.bytes().all(|b| b.is_ascii_lowercase()))
    };
    let shape = match parts.as_slice() {
        [country, area] => country.len() == 2 && lower(country) && lower(area),
        [country, kind, area] => {
            country.len() == 2 && lower(country) && partition(kind) && lower(area)
        }
        _ => false,
    };
    shape && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
}

impl Loader {
    pub(super) fn provider(&mut self, file: usize, block: &Block) -> Option<ProviderBlock> {
        let location = self.location(file, block.ident.span());
        let label = self.single_label(file, block, "the provider's name")?;
        if label.as_str() != "aws" {
            let at = self.location(file, label_span(label));
            self.error(
                Diagnostic::error(
                    format!("unsupported provider `{}`", label.as_str()),
                    Some(at),
                )
                .with_hint("decom supports only `provider \"aws\"`"),
            );
            return None;
        }
        let (fields, blocks) = self.fields(
            file,
            &block.body,
            "the `provider` block",
            &PROVIDER_ATTRIBUTES,
            &["assume_role"],
        );
        let mut ok = true;
        let mut regions = Vec::new();
        let regions_location = fields
            .get("regions")
            .map(|attr| self.location(file, attr.span()));
        match fields.get("regions") {
            Some(attr) => match self.regions(file, attr, RegionUse::Provider) {
                Some(list) => regions = list,
                None => ok = false,
            },
            None => {
                ok = false;
                self.error(
                    Diagnostic::error(
                        "the `provider` block needs `regions`",
                        Some(location.clone()),
                    )
                    .with_hint("write `regions = [\"us-east-1\"]`"),
                );
            }
        }
        let mut allowed_account_ids = Vec::new();
        let allowed_account_ids_location = fields
            .get("allowed_account_ids")
            .map(|attr| self.location(file, attr.span()));
        match fields.get("allowed_account_ids") {
            Some(attr) => match self.account_ids(file, attr) {
                Some(list) => allowed_account_ids = list,
                None => ok = false,
            },
            None => {
                ok = false;
                self.error(
                    Diagnostic::error(
                        "the `provider` block needs `allowed_account_ids`",
                        Some(location.clone()),
                    )
                    .with_hint(ALLOWED_ACCOUNTS_HINT),
                );
            }
        }
        let profile = match fields.get("profile") {
            Some(attr) => {
                let value = self.string(file, attr);
                ok &= value.is_some();
                value
            }
            None => None,
        };
        let mut assume_role = None;
        for (index, nested) in blocks.iter().enumerate() {
            if index > 0 {
                ok = false;
                let at = self.location(file, nested.ident.span());
                self.error(Diagnostic::error("duplicate `assume_role` block", Some(at)));
                continue;
            }
            match self.assume_role(file, nested) {
                Some(role) => assume_role = Some(role),
                None => ok = false,
            }
        }
        ok.then_some(ProviderBlock {
            regions,
            regions_location,
            allowed_account_ids,
            allowed_account_ids_location,
            profile,
            assume_role,
            location,
        })
    }

    /// A non-empty list of region names, each reported where it was written if it
    /// does not have a region's shape.
    pub(super) fn regions(
        &mut self,
        file: usize,
        attr: &Attribute,
        used: RegionUse,
    ) -> Option<Vec<String>> {
        let list = self.non_empty_list(file, attr)?;
        let locations = self.element_locations(file, attr, &list);
        let mut ok = true;
        for region in &list {
            let global = used == RegionUse::Selector && region == decom_provider::GLOBAL_REGION;
            if global || is_region_name(region) {
                continue;
            }
            ok = false;
            let message = if region.is_empty() {
                "a region name is empty".to_string()
            } else {
                format!("`{region}` is not an AWS region name")
            };
            let hint = match used {
                RegionUse::Provider => format!("region names look like {REGION_EXAMPLES}"),
                RegionUse::Selector => format!(
                    "region names look like {REGION_EXAMPLES}; IAM resources are in `global`"
                ),
            };
            let at = locations.get(region).cloned();
            self.error(Diagnostic::error(message, at).with_hint(hint));
        }
        ok.then_some(list)
    }

    /// `allowed_account_ids`: a non-empty list of 12-digit ids, each reported where it
    /// was written if it is not one.
    fn account_ids(&mut self, file: usize, attr: &Attribute) -> Option<Vec<String>> {
        let list = self.non_empty_list(file, attr)?;
        let locations = self.element_locations(file, attr, &list);
        let mut ok = true;
        for id in &list {
            if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            ok = false;
            let at = locations.get(id).cloned();
            self.error(
                Diagnostic::error(format!("`{id}` is not an AWS account id"), at)
                    .with_hint(ACCOUNT_ID_HINT),
            );
        }
        ok.then_some(list)
    }

    fn assume_role(&mut self, file: usize, block: &Block) -> Option<AssumeRole> {
        if let Some(label) = block.labels.first() {
            let at = self.location(file, label_span(label));
            self.error(Diagnostic::error(
                "an `assume_role` block takes no labels",
                Some(at),
            ));
            return None;
        }
        let (fields, _) = self.fields(
            file,
            &block.body,
            "the `assume_role` block",
            &ASSUME_ROLE_ATTRIBUTES,
            &[],
        );
        let role_arn = match fields.get("role_arn") {
            Some(attr) => self.string(file, attr),
            None => {
                let at = self.location(file, block.ident.span());
                self.error(
                    Diagnostic::error("the `assume_role` block needs `role_arn`", Some(at))
                        .with_hint("write `role_arn = \"arn:aws:iam::123456789012:role/NAME\"`"),
                );
                None
            }
        };
        let mut optional = |name: &str| -> Result<Option<String>, ()> {
            match fields.get(name) {
                Some(attr) => self.string(file, attr).map(Some).ok_or(()),
                None => Ok(None),
            }
        };
        let session_name = optional("session_name");
        let external_id = optional("external_id");
        Some(AssumeRole {
            role_arn: role_arn?,
            session_name: session_name.ok()?,
            external_id: external_id.ok()?,
        })
    }
}
