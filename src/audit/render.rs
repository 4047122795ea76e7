//! The human audit report (a text table, or Markdown for a pull request or issue),
//! rendered from the same [`AuditReport`] the JSON is, so the two never disagree.

use std::fmt::Write;

use super::{AuditReport, Finding};

const HEADERS: [&str; 6] = ["TYPE", "NAME", "REGION", "KIND", "TERRAFORM", "$/MONTH"];

fn row(finding: &Finding) -> [String; 6] {
    [
        finding.ty.to_string(),
        if finding.name.is_empty() {
            finding.id.clone()
        } else {
            finding.name.clone()
        },
        finding.region.clone(),
        finding.kind.to_string(),
        finding.terraform.label(),
        finding
            .cost
            .as_ref()
            .map(|c| format!("{:.2}", c.monthly_usd))
            .unwrap_or_else(|| "-".into()),
    ]
}

fn headline(report: &AuditReport) -> String {
    format!(
        "decom audit of account {} ({}) as of {}, unused threshold {} days",
        report.account_id,
        report.regions.join(", "),
        report.as_of,
        report.unused_days
    )
}

fn summary_line(report: &AuditReport) -> String {
    let s = &report.summary;
    let mut line = format!("{} finding(s)", s.findings);
    if !report.terraform_states.is_empty() {
        let _ = write!(
            line,
            " ({} unmanaged, {} managed by Terraform",
            s.unmanaged, s.managed
        );
        if s.managed_not_listed > 0 {
            let _ = write!(
                line,
                ", {} of them not listed: pass --include-managed",
                s.managed_not_listed
            );
        }
        line.push(')');
    }
    let _ = write!(
        line,
        ", {} ignored, estimated ${:.2}/month where AWS publishes a fixed price.",
        s.ignored, s.estimated_monthly_usd
    );
    line
}

fn evidence_line(finding: &Finding) -> String {
    finding
        .evidence
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text report: headline, table, one detail paragraph per finding, then the
/// ignored findings, missing state entries and unchecked kinds.
pub fn text(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", headline(report));
    if report.findings.is_empty() {
        out.push_str("No unused resources found.\n\n");
    } else {
        let rows: Vec<[String; 6]> = report.findings.iter().map(row).collect();
        let mut widths = HEADERS.map(str::len);
        for r in &rows {
            for (w, cell) in widths.iter_mut().zip(r.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut l = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    l.push_str(cell);
                } else {
                    let _ = write!(l, "{cell:<width$}  ", width = widths[i]);
                }
            }
            l.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(&HEADERS.map(String::from)));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r));
        }
        out.push('\n');
        for finding in &report.findings {
            let _ = writeln!(out, "{}", finding.address);
            let _ = writeln!(out, "  why:      {}", finding.why);
            let _ = writeln!(out, "  evidence: {}", evidence_line(finding));
            if let Some(cost) = &finding.cost {
                let _ = writeln!(
                    out,
                    "  cost:     ${:.2}/month: {}",
                    cost.monthly_usd, cost.assumption
                );
            }
            out.push('\n');
        }
    }
    if !report.ignored.is_empty() {
        let _ = writeln!(out, "Ignored by .decomignore ({}):", report.ignored.len());
        for address in &report.ignored {
            let _ = writeln!(out, "  {address}");
        }
        out.push('\n');
    }
    if !report.missing.is_empty() {
        let _ = writeln!(
            out,
            "In a Terraform state but not found live ({}):",
            report.missing.len()
        );
        for m in &report.missing {
            let _ = writeln!(out, "  {} ({}) in {}", m.address, m.id, m.state);
        }
        out.push('\n');
    }
    for n in &report.not_checked {
        let types: Vec<String> = n.missing_types.iter().map(|t| t.to_string()).collect();
        let _ = writeln!(
            out,
            "Not checked: {} (the inventory does not cover {})",
            n.kind,
            types.join(", ")
        );
    }
    if !report.not_checked.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(report));
    out
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown report: a summary line outside the fold, the table, and the
/// details of each finding in a `<details>` block.
pub fn markdown(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {}\n", md_cell(&headline(report)));
    let _ = writeln!(out, "{}\n", md_cell(&summary_line(report)));
    if !report.findings.is_empty() {
        let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(HEADERS.len()));
        for finding in &report.findings {
            let cells: Vec<String> = row(finding).iter().map(|c| md_cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push_str("\n<details><summary>Why and evidence</summary>\n\n");
        for finding in &report.findings {
            let _ = writeln!(out, "- `{}`: {}", finding.address, md_cell(&finding.why));
            let _ = writeln!(out, "  - evidence: {}", md_cell(&evidence_line(finding)));
            if let Some(cost) = &finding.cost {
                let _ = writeln!(
                    out,
                    "  - cost: ${:.2}/month: {}",
                    cost.monthly_usd,
                    md_cell(&cost.assumption)
                );
            }
        }
        out.push_str("\n</details>\n");
    }
    if !report.missing.is_empty() {
        let _ = writeln!(
            out,
            "\n**In a Terraform state but not found live ({}):**\n",
            report.missing.len()
        );
        for m in &report.missing {
            let _ = writeln!(out, "- `{}` (`{}`) in `{}`", m.address, m.id, m.state);
        }
    }
    if !report.ignored.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>Ignored by .decomignore ({})</summary>\n",
            report.ignored.len()
        );
        for address in &report.ignored {
            let _ = writeln!(out, "- `{address}`");
        }
        out.push_str("\n</details>\n");
    }
    for n in &report.not_checked {
        let types: Vec<String> = n.missing_types.iter().map(|t| format!("`{t}`")).collect();
        let _ = writeln!(
            out,
            "\nNot checked: `{}` (the inventory does not cover {})",
            n.kind,
            types.join(", ")
        );
    }
    out
}
