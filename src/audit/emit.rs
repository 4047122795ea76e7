//! Findings into work: an HCL spec whose `absent` blocks select exactly the listed
//! findings, by id, ready for a pull request and `decom plan`.

use std::collections::BTreeMap;
use std::fmt::Write;

use decom_provider::ResourceType;

use super::{AuditReport, Finding};

/// The spec for the report's listed findings (ignored and unlisted managed findings
/// are left out). `None` without findings: a spec needs at least one `absent` block.
pub fn emit_spec(report: &AuditReport) -> Option<String> {
    if report.findings.is_empty() {
        return None;
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by `decom audit --emit-spec` from the audit of account {} as of {}.",
        report.account_id, report.as_of
    );
    out.push_str(
        "# It deletes exactly the findings listed below. Review each one first: decom cannot\n# see every use of a resource (docs/audit.md, \"Blind spots\"). Then: decom plan <dir>\n\n",
    );
    let regions: Vec<String> = report
        .regions
        .iter()
        .filter(|r| *r != decom_provider::GLOBAL_REGION)
        .map(|r| hcl_string(r))
        .collect();
    // The loader requires regions in a provider block; an IAM-only audit has none.
    if !regions.is_empty() {
        out.push_str("provider \"aws\" {\n");
        let _ = writeln!(out, "  regions             = [{}]", regions.join(", "));
        let _ = writeln!(
            out,
            "  allowed_account_ids = [{}]",
            hcl_string(&report.account_id)
        );
        out.push_str("}\n\n");
    }

    let _ = writeln!(
        out,
        "decommission {} {{",
        hcl_string(&format!("audit-orphans-{}", report.account_id))
    );
    let _ = writeln!(
        out,
        "  description = {}",
        hcl_string(&format!(
            "Delete the {} unused resource(s) found by decom audit",
            report.findings.len()
        ))
    );
    let mut by_type: BTreeMap<ResourceType, Vec<&Finding>> = BTreeMap::new();
    for finding in &report.findings {
        by_type.entry(finding.ty).or_default().push(finding);
    }
    for (ty, findings) in by_type {
        out.push('\n');
        for finding in &findings {
            let name = if finding.name.is_empty() {
                String::new()
            } else {
                format!(" {}", finding.name)
            };
            let _ = writeln!(
                out,
                "  # {}{name}: {}: {}",
                finding.kind,
                one_line(&finding.why),
                finding.id
            );
            if let super::Management::Managed { address, state } = &finding.terraform {
                let _ = writeln!(
                    out,
                    "  #   managed by Terraform as {address} in {state}: remove it there instead, or expect drift"
                );
            }
        }
        let _ = writeln!(out, "  absent {} {{", hcl_string(ty.as_str()));
        out.push_str("    ids = [\n");
        for finding in &findings {
            let _ = writeln!(out, "      {},", hcl_string(&finding.id));
        }
        out.push_str("    ]\n  }\n");
    }
    // An unpulled repository still holds images: without the opt-in it is a blocker.
    if report
        .findings
        .iter()
        .any(|f| f.kind == super::FindingKind::EcrRepositoryUnpulled)
    {
        out.push_str(
            "\n  # The unpulled repositories still hold images: their list is archived first.\n  allow {\n    delete_images = true\n  }\n",
        );
    }
    out.push_str(
        "\n  # Resources left unused by these deletions are reported by the plan, not deleted.\n",
    );
    out.push_str("  orphans = \"report\"\n}\n");
    Some(out)
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// A quoted HCL string: escapes, and `${`/`%{` so no template is ever evaluated.
fn hcl_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_never_interpolate() {
        assert_eq!(hcl_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(hcl_string("/x/${y}/%{z}"), r#""/x/$${y}/%%{z}""#);
    }
}
