//! `decom init`: a first spec for the account and region of the credentials, with
//! the account guard filled in and one `absent` selector, commented so that a person
//! can take it from there; then the way on, `decom plan`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use decom::session;
use decom::spec::{self, LoadOptions, SourceFile};

use super::args::InitArgs;
use super::commands::EXIT_OK;

/// The first `absent` selector(s) of the new spec.
struct Selectors {
    tag: Option<(String, String)>,
    name_prefix: Option<String>,
}

impl Selectors {
    fn from_args(args: &InitArgs) -> Result<Selectors> {
        let tag = match &args.tag {
            Some(tag) => match tag.split_once('=') {
                Some((key, value)) if !key.is_empty() && !value.is_empty() => {
                    Some((key.to_string(), value.to_string()))
                }
                _ => bail!("--tag `{tag}` is not KEY=VALUE\n  hint: write --tag Service=lego-api"),
            },
            None => None,
        };
        Ok(Selectors {
            tag,
            name_prefix: args.name_prefix.clone(),
        })
    }

    /// The decommission's name: what the selectors name.
    fn name(&self) -> &str {
        self.tag
            .as_ref()
            .map(|(_, value)| value.as_str())
            .or(self.name_prefix.as_deref())
            .unwrap_or("decommission")
    }
}

pub async fn run(args: InitArgs) -> Result<i32> {
    let selectors = Selectors::from_args(&args)?;
    let path = args.dir.join("main.hcl");
    if path.exists() && !args.force {
        bail!(
            "`{}` exists already\n  hint: pass --force to overwrite it, or name another directory",
            path.display()
        );
    }
    // Settings first, then the one call: who the credentials belong to.
    let (identity, regions) = session::identify(&args.regions).await?;
    let profile = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
    let text = spec_text(
        &identity.account_id,
        &regions,
        profile.as_deref(),
        &selectors,
    );
    // What decom writes, decom must read: a bug here is caught before the file is.
    spec::parse_sources(
        vec![SourceFile {
            display_path: path.display().to_string(),
            file_name: "main.hcl".to_string(),
            text: text.clone(),
        }],
        &LoadOptions::default(),
    )
    .map_err(|d| anyhow!("internal error: the spec decom init wrote does not load:\n{d}"))?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot make `{}`", args.dir.display()))?;
    std::fs::write(&path, &text).with_context(|| format!("cannot write `{}`", path.display()))?;
    let dir = shell_word(&args.dir);
    let mut stderr = std::io::stderr().lock();
    writeln!(
        stderr,
        "Wrote {} for account {} ({}) in {}.",
        path.display(),
        identity.account_id,
        identity.arn,
        regions.join(", ")
    )?;
    writeln!(
        stderr,
        "Review it, then see what decom would delete (read-only): decom plan {dir}"
    )?;
    Ok(EXIT_OK)
}

/// The spec: the provider block with the guard, one decommission with the
/// selectors, each part saying what it is for.
fn spec_text(
    account: &str,
    regions: &[String],
    profile: Option<&str>,
    selectors: &Selectors,
) -> String {
    let regions: Vec<String> = regions.iter().map(|r| hcl_string(r)).collect();
    let profile = match profile {
        Some(profile) => format!(
            "  # The profile the credentials came from; uncomment to pin it.\n  # profile = {}\n",
            hcl_string(profile)
        ),
        None => {
            "  # profile = \"ops\"   # the AWS profile to use, if not AWS_PROFILE's\n".to_string()
        }
    };
    let mut absent = String::new();
    if let Some((key, value)) = &selectors.tag {
        absent.push_str(&format!(
            "  # Every resource tagged {} = {} must be gone.\n  absent \"*\" {{ tags = {{ {} = {} }} }}\n",
            hcl_string(key),
            hcl_string(value),
            hcl_string(key),
            hcl_string(value)
        ));
    }
    if let Some(prefix) = &selectors.name_prefix {
        absent.push_str(&format!(
            "  # Every resource whose name starts with {} must be gone.\n  absent \"*\" {{ name_prefix = {} }}\n",
            hcl_string(prefix),
            hcl_string(prefix)
        ));
    }
    format!(
        r#"# What must be gone from AWS account {account}, and what must stay.
# Written by `decom init`; the language is described in docs/spec.md.
# `decom plan` only reads the account: it prints what would be deleted, in which
# order and why. Nothing changes until `decom apply`.

provider "aws" {{
  # The regions decom reads and changes.
  regions = [{regions}]
  # The account guard: decom refuses to work on any other account.
  allowed_account_ids = [{account_id}]
{profile}}}

decommission {name} {{
  description = {description}

{absent}
  # More selectors, each its own block (several blocks: either matches):
  #   absent "aws_lb"       {{ names = ["web-alb"] }}
  #   absent "aws_iam_role" {{ name_glob = "web-ecs-*" }}
  # Types: aws_security_group, aws_network_interface, aws_instance, aws_lb,
  # aws_lb_listener, aws_lb_listener_rule, aws_lb_target_group, aws_iam_role,
  # aws_iam_policy, aws_iam_instance_profile, aws_cloudwatch_log_group.

  # What must survive even when a selector above matches it:
  #   keep "aws_iam_role" {{ names = ["shared-ecs-execution-role"] }}

  # Resources the deletions leave unused: "report" lists them in the plan,
  # "delete" deletes them too, "fail" refuses the plan.
  orphans = "report"
}}
"#,
        regions = regions.join(", "),
        account_id = hcl_string(account),
        name = hcl_string(selectors.name()),
        description = hcl_string(&format!("Retire {}", selectors.name())),
    )
}

/// An HCL string literal: quotes, backslashes and control characters escaped, and
/// `${` / `%{` doubled so that nothing is read as a template.
fn hcl_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out.replace("${", "$${").replace("%{", "%%{")
}

/// The directory as a person would type it in the suggested command.
fn shell_word(dir: &Path) -> String {
    let text = dir.display().to_string();
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+:@".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> spec::Spec {
        spec::parse_sources(
            vec![SourceFile {
                display_path: "main.hcl".into(),
                file_name: "main.hcl".into(),
                text: text.into(),
            }],
            &LoadOptions::default(),
        )
        .unwrap_or_else(|d| panic!("{d}\n{text}"))
    }

    #[test]
    fn the_spec_loads_with_the_guard_and_the_selectors() {
        let selectors = Selectors {
            tag: Some((
                "aws:cloudformation:stack-name".into(),
                "web \"blue\" ${x}".into(),
            )),
            name_prefix: Some("web-".into()),
        };
        let text = spec_text(
            "123456789012",
            &["eu-west-1".into(), "us-east-1".into()],
            Some("ops"),
            &selectors,
        );
        let spec = load(&text);
        let provider = spec.provider.as_ref().expect("a provider block");
        assert_eq!(provider.allowed_account_ids, ["123456789012"]);
        assert_eq!(provider.regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(provider.profile, None, "the profile is only suggested");
        assert_eq!(spec.decommission.absent.len(), 2);
        assert_eq!(spec.decommission.name, "web \"blue\" ${x}");
    }

    #[test]
    fn directories_are_quoted_for_the_shell_when_needed() {
        assert_eq!(shell_word(Path::new("decommission")), "decommission");
        assert_eq!(shell_word(Path::new("my spec")), "'my spec'");
    }
}
