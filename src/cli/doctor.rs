//! `decom doctor`: the library's checkup of an account (`decom::session::doctor`),
//! rendered as a report and a table of every permission decom needs. Exits 1 when
//! something stops decom from working on the account.

use std::io::Write;

use anyhow::Result;
use decom::session::{self, Checkup, GuardCheck};
use decom_aws::{Explained, PermissionCheck, Verdict};
use decom_provider::ProviderError;

use super::args::DoctorArgs;
use super::commands::{EXIT_ERROR, EXIT_OK, load_spec};

pub async fn run(args: DoctorArgs) -> Result<i32> {
    let spec = match &args.spec {
        Some(path) => Some(load_spec(path, &args.spec_args)?),
        None => None,
    };
    let checkup = session::doctor(
        spec.as_ref(),
        &args.guard.allowed_account_ids,
        &args.regions,
    )
    .await?;
    std::io::stdout()
        .lock()
        .write_all(render(&checkup).as_bytes())?;
    Ok(if checkup.is_ready() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

/// The report: caller, guard, regions, the table, then what is missing.
pub fn render(checkup: &Checkup) -> String {
    let mut out = String::new();
    let identity = &checkup.identity;
    out.push_str(&format!(
        "Caller:  {} (account {})\n",
        identity.arn, identity.account_id
    ));
    let guard = match &checkup.guard {
        GuardCheck::Allowed => format!("account {} is allowed", identity.account_id),
        GuardCheck::Unguarded => "none: neither the spec's `allowed_account_ids` nor --allowed-account-id names an account (plan warns, apply refuses)".to_string(),
        GuardCheck::Refused(refused) => refused.to_string(),
    };
    out.push_str(&format!("Guard:   {guard}\n"));
    for region in &checkup.regions {
        let status = match checkup.region_problem(region) {
            None => "reachable".to_string(),
            Some(problem) => Explained(problem).to_string(),
        };
        out.push_str(&format!("Region:  {region}: {status}\n"));
    }
    out.push('\n');
    out.push_str(&table(&checkup.permissions));
    out.push('\n');
    out.push_str(&summary(checkup));
    out
}

fn table(checks: &[PermissionCheck]) -> String {
    let rows: Vec<[String; 4]> = checks
        .iter()
        .map(|c| {
            let place = match (&c.region, c.permission.regional) {
                (Some(region), _) => region.clone(),
                (None, true) => "all".to_string(),
                (None, false) => "global".to_string(),
            };
            [
                c.permission.action.to_string(),
                c.permission.need.commands().to_string(),
                place,
                c.verdict.to_string(),
            ]
        })
        .collect();
    let header = [
        "ACTION".to_string(),
        "NEEDED BY".to_string(),
        "REGION".to_string(),
        "RESULT".to_string(),
    ];
    let mut widths = [0; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// What stops decom, with the hints to fix it; or that nothing does.
fn summary(checkup: &Checkup) -> String {
    let mut out = String::new();
    let denied: Vec<ProviderError> = checkup
        .permissions
        .iter()
        .filter_map(|c| match &c.verdict {
            Verdict::Denied(Some(error)) => Some(error.clone()),
            Verdict::Denied(None) => Some(ProviderError::new(
                c.permission.action,
                c.region.as_deref(),
                "AccessDenied",
                "IAM's policy simulator denies it",
            )),
            _ => None,
        })
        .collect();
    let mut denied = denied.into_iter();
    if let Some(mut first) = denied.next() {
        first.detail_mut().also_denied = denied.collect();
        out.push_str(&format!("Missing: {:#}\n", Explained(&first)));
    }
    // Failures in a region that answered nothing at all are said once, above.
    let unknown: Vec<&ProviderError> = checkup
        .permissions
        .iter()
        .filter_map(|c| match &c.verdict {
            Verdict::Unknown(error)
                if c.region
                    .as_deref()
                    .is_none_or(|r| checkup.region_problem(r).is_none()) =>
            {
                Some(error)
            }
            _ => None,
        })
        .collect();
    for error in unknown {
        out.push_str(&format!("Unknown: {}\n", Explained(error)));
    }
    let not_checked: Vec<(&PermissionCheck, &String)> = checkup
        .permissions
        .iter()
        .filter_map(|c| match &c.verdict {
            Verdict::NotChecked(why) => Some((c, why)),
            _ => None,
        })
        .collect();
    if let Some((_, why)) = not_checked.first() {
        let changes_only = not_checked
            .iter()
            .all(|(c, _)| c.permission.need.changes_the_account());
        out.push_str(&format!(
            "Not checked: {} permission(s){}: {why}\n",
            not_checked.len(),
            if changes_only {
                " of apply and restore"
            } else {
                ""
            }
        ));
    }
    if checkup.is_ready() {
        out.push_str("Ready: decom can discover, plan and audit this account.\n");
    }
    out
}
