//! `.decomignore`: known exceptions that keep the audit quiet. Gitignore-like lines
//! of `type.id` globs; `!` re-includes, `#` starts a comment, the last matching line
//! wins.

use std::path::Path;

use decom_provider::ResourceType;

use super::{AuditError, Finding};

/// Where a set of rules came from, for the report and for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreSource {
    pub path: String,
}

#[derive(Debug, Clone)]
struct IgnoreLine {
    negated: bool,
    matcher: globset::GlobMatcher,
}

/// Parsed `.decomignore` lines, in file order.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    lines: Vec<IgnoreLine>,
    pub source: Option<IgnoreSource>,
}

impl IgnoreRules {
    /// Parses the text of an ignore file; `path` names it in errors.
    ///
    /// A pattern is matched against `type.id` and against `type.name` (a security
    /// group is easier to name by its name than by `sg-…`); `*` also matches `/` and
    /// `:`, so `aws_lb.*/staging-*` works on ARNs. Aliases (`aws_alb.…`) are accepted.
    pub fn parse(text: &str, path: &str) -> Result<IgnoreRules, AuditError> {
        let mut lines = Vec::new();
        for (number, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negated, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line.strip_prefix('\\').unwrap_or(line)),
            };
            let pattern = canonical_type(pattern);
            let matcher = globset::GlobBuilder::new(&pattern)
                .literal_separator(false)
                .backslash_escape(true)
                .build()
                .map_err(|e| AuditError::IgnorePattern {
                    path: path.to_string(),
                    line: number + 1,
                    pattern: pattern.clone(),
                    message: e.kind().to_string(),
                })?
                .compile_matcher();
            lines.push(IgnoreLine { negated, matcher });
        }
        Ok(IgnoreRules {
            lines,
            source: Some(IgnoreSource {
                path: path.to_string(),
            }),
        })
    }

    /// Loads `path`; a missing file is no rules at all.
    pub fn load(path: &Path) -> Result<IgnoreRules, AuditError> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &shown),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IgnoreRules::default()),
            Err(source) => Err(AuditError::Read {
                path: shown,
                source,
            }),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The last line matching `type.id` or `type.name` decides.
    pub fn is_ignored(&self, finding: &Finding) -> bool {
        let by_id = format!("{}.{}", finding.ty, finding.id);
        let by_name = format!("{}.{}", finding.ty, finding.name);
        let mut ignored = false;
        for line in &self.lines {
            if line.matcher.is_match(&by_id)
                || (!finding.name.is_empty() && line.matcher.is_match(&by_name))
            {
                ignored = !line.negated;
            }
        }
        ignored
    }
}

/// `aws_alb.x` -> `aws_lb.x`, so aliases in patterns match our type names.
fn canonical_type(pattern: &str) -> String {
    if let Some((ty, rest)) = pattern.split_once('.')
        && let Ok(parsed) = ty.parse::<ResourceType>()
    {
        return format!("{parsed}.{rest}");
    }
    pattern.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{FindingKind, Management};

    fn finding(ty: ResourceType, id: &str, name: &str) -> Finding {
        Finding {
            kind: FindingKind::UnusedSecurityGroup,
            ty,
            id: id.into(),
            name: name.into(),
            region: "us-east-1".into(),
            address: format!("{ty}.{id}"),
            why: String::new(),
            evidence: Default::default(),
            terraform: Management::Unknown,
            cost: None,
        }
    }

    #[test]
    fn later_lines_win_and_negation_reincludes() {
        let rules = IgnoreRules::parse(
            "# known exceptions\n\naws_iam_role.legacy-*\n!aws_iam_role.legacy-etl-role\n  aws_security_group.bastion-sg  \naws_alb.*/staging-alb/*\n",
            ".decomignore",
        )
        .expect("parses");
        let role = |name: &str| finding(ResourceType::IamRole, name, name);
        assert!(rules.is_ignored(&role("legacy-x")));
        assert!(!rules.is_ignored(&role("legacy-etl-role")));
        assert!(!rules.is_ignored(&role("other")));
        assert!(rules.is_ignored(&finding(
            ResourceType::SecurityGroup,
            "sg-0123",
            "bastion-sg"
        )));
        assert!(rules.is_ignored(&finding(
            ResourceType::Lb,
            "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/staging-alb/abc",
            "staging-alb"
        )));
        assert!(!rules.is_ignored(&finding(ResourceType::Instance, "legacy-x", "legacy-x")));
    }

    #[test]
    fn a_bad_pattern_names_its_line() {
        let err = IgnoreRules::parse("ok.*\naws_lb.[", "x/.decomignore").expect_err("bad");
        assert!(err.to_string().starts_with("x/.decomignore:2:"), "{err}");
    }
}
