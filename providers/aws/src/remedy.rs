//! What a person can do about a failed AWS call: the hint chosen by its error code
//! (a missing permission names the action and the policy of docs/aws.md that holds
//! it; missing credentials list the ways to give them; an expired session says
//! `aws sso login`; …), and the short message that carries it.

use std::collections::BTreeSet;
use std::fmt;

use decom_provider::{ErrorKind, ProviderError};

use crate::failures::{
    CREDENTIALS_ERROR, DISPATCH_FAILURE, EXPIRED_TOKEN, NO_CREDENTIALS, TIMEOUT,
};
use crate::permissions::{Policy, permission};

/// Regions an account must enable before any call there succeeds (AWS's "opt-in"
/// regions; the others are enabled in every account).
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// What to do about a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Allow the refused actions; `policies` are the policies of docs/aws.md that
    /// hold them (none for an action decom does not list, such as `sts:AssumeRole`).
    Allow {
        actions: Vec<String>,
        policies: BTreeSet<Policy>,
    },
    /// No credentials were found anywhere in the chain.
    ProvideCredentials,
    /// An SSO session or temporary credentials that have expired.
    LogInAgain,
    /// A credential source that failed (a profile, `credential_process`, a role).
    FixCredentialSource,
    /// Credentials AWS does not know, or a signature that does not match them.
    CheckCredentials,
    /// An opt-in region the account has not enabled.
    EnableRegion { region: String },
    /// An endpoint (named in the message) that did not answer.
    CheckNetwork,
    /// Throttling beyond the SDK's retries.
    RetryLater,
}

impl Remedy {
    /// The remedy for an error, if decom knows one.
    pub fn of(error: &ProviderError) -> Option<Remedy> {
        let code = error.code.as_str();
        let region = error.region.as_deref().unwrap_or_default();
        let remedy = match code {
            _ if error.kind == ErrorKind::AccessDenied => {
                let actions: Vec<String> = error
                    .denials()
                    .map(|e| e.operation.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let policies = actions
                    .iter()
                    .filter_map(|a| permission(a))
                    .map(|p| p.need.policy())
                    .collect();
                Remedy::Allow { actions, policies }
            }
            NO_CREDENTIALS => Remedy::ProvideCredentials,
            EXPIRED_TOKEN | "ExpiredTokenException" | "TokenRefreshRequired" => Remedy::LogInAgain,
            CREDENTIALS_ERROR => Remedy::FixCredentialSource,
            "OptInRequired" => Remedy::EnableRegion {
                region: region.to_string(),
            },
            "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "AuthFailure"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
                if OPT_IN_REGIONS.contains(&region) =>
            {
                Remedy::EnableRegion {
                    region: region.to_string(),
                }
            }
            "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "AuthFailure"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch" => Remedy::CheckCredentials,
            DISPATCH_FAILURE | TIMEOUT => Remedy::CheckNetwork,
            _ if error.kind == ErrorKind::Throttled => Remedy::RetryLater,
            _ => return None,
        };
        Some(remedy)
    }
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remedy::Allow { actions, policies } => {
                let names: Vec<String> = actions.iter().map(|a| format!("`{a}`")).collect();
                write!(f, "the credentials need {}", and_list(&names))?;
                let (it, are) = if actions.len() == 1 {
                    ("it", "is")
                } else {
                    ("them", "are")
                };
                match policies.len() {
                    0 => write!(f, ": allow {it} in their IAM policy")?,
                    1 => write!(
                        f,
                        ", which {are} in {}",
                        policies.first().expect("one policy")
                    )?,
                    _ => write!(
                        f,
                        ", which {are} in the read-only and the apply policies in docs/aws.md"
                    )?,
                }
                if actions.iter().any(|a| a == "sts:AssumeRole") {
                    write!(
                        f,
                        "; for the spec's `assume_role`, the role's trust policy must also let these credentials assume it"
                    )
                } else if f.alternate() {
                    Ok(())
                } else {
                    write!(
                        f,
                        "; `decom doctor` checks every permission decom needs in one run"
                    )
                }
            }
            Remedy::ProvideCredentials => f.write_str(
                "give decom AWS credentials in one of these ways: a profile (AWS_PROFILE, or `profile` in the spec's provider block); IAM Identity Center (`aws sso login --profile NAME`, then that profile); the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN for temporary ones); or the role of the instance or container decom runs on. Without an account, plan against a snapshot with --inventory FILE",
            ),
            Remedy::LogInAgain => f.write_str(
                "the session has expired: run `aws sso login` (with `--profile NAME` for the profile in use), or renew the temporary credentials in AWS_SESSION_TOKEN, then run decom again",
            ),
            Remedy::FixCredentialSource => f.write_str(
                "the credential source in use failed: check the profile in ~/.aws/config (AWS_PROFILE), its `credential_process` or `role_arn`, and the spec's `assume_role`",
            ),
            Remedy::CheckCredentials => f.write_str(
                "AWS does not accept these credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile in use) and that AWS_SESSION_TOKEN belongs to them",
            ),
            Remedy::EnableRegion { region } => write!(
                f,
                "`{region}` is an opt-in region that this account has not enabled, so AWS refuses every call there: enable it (AWS console, Account, AWS Regions), or remove it from the spec's `regions`"
            ),
            Remedy::CheckNetwork => f.write_str(
                "decom could not reach the endpoint above: check the network and any proxy (HTTPS_PROXY), that the region exists, and AWS_ENDPOINT_URL if it is set",
            ),
            Remedy::RetryLater => f.write_str(
                "AWS throttled the calls beyond the SDK's retries: run decom again later, or allow more attempts with AWS_MAX_ATTEMPTS",
            ),
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A failed call as a person reads it: the call, region, AWS code and message and
/// request id, then the hint. An error that stands for several refused calls lists
/// each, one line each, with one hint naming every missing permission. The
/// alternate form (`{:#}`) leaves out the pointer to `decom doctor`, for the doctor.
pub struct Explained<'a>(pub &'a ProviderError);

impl fmt::Display for Explained<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error = self.0;
        let denials: Vec<&ProviderError> = error.denials().collect();
        if denials.len() > 1 {
            write!(
                f,
                "{} calls were refused for missing permissions:",
                denials.len()
            )?;
            for denial in &denials {
                write!(f, "\n  {denial}")?;
            }
        } else {
            write!(f, "{error}")?;
        }
        match Remedy::of(error) {
            Some(remedy) if f.alternate() => write!(f, "\n  hint: {remedy:#}")?,
            Some(remedy) => write!(f, "\n  hint: {remedy}")?,
            None => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(operation: &str, region: Option<&str>, code: &str) -> ProviderError {
        ProviderError::new(operation, region, code, "message")
    }

    #[test]
    fn a_missing_permission_names_the_action_and_its_policy() {
        let e = error(
            "elasticloadbalancing:DescribeTargetGroups",
            Some("eu-west-1"),
            "AccessDenied",
        );
        assert_eq!(
            Remedy::of(&e).map(|r| r.to_string()).as_deref(),
            Some(
                "the credentials need `elasticloadbalancing:DescribeTargetGroups`, which is in the read-only policy (`DecomDiscover`) in docs/aws.md; `decom doctor` checks every permission decom needs in one run"
            )
        );
        let e = error("iam:DeleteRole", None, "AccessDenied");
        assert!(
            Remedy::of(&e)
                .map(|r| r.to_string())
                .is_some_and(|r| r.contains("the apply policy (`DecomApply`)")),
        );
    }

    #[test]
    fn several_denials_are_one_hint() {
        let mut e = error(
            "ec2:DescribeSecurityGroupRules",
            Some("eu-west-1"),
            "UnauthorizedOperation",
        );
        e.detail_mut().also_denied = vec![
            error("iam:ListInstanceProfiles", None, "AccessDenied"),
            error(
                "ec2:DescribeSecurityGroupRules",
                Some("us-east-1"),
                "UnauthorizedOperation",
            ),
        ];
        let Some(Remedy::Allow { actions, policies }) = Remedy::of(&e) else {
            panic!("a missing permission");
        };
        assert_eq!(
            actions,
            ["ec2:DescribeSecurityGroupRules", "iam:ListInstanceProfiles"]
        );
        assert_eq!(policies, BTreeSet::from([Policy::ReadOnly]));
    }

    #[test]
    fn credentials_and_regions_get_their_own_hints() {
        let of = |op: &str, region: Option<&str>, code: &str| Remedy::of(&error(op, region, code));
        assert_eq!(
            of("sts:GetCallerIdentity", Some("eu-west-1"), NO_CREDENTIALS),
            Some(Remedy::ProvideCredentials)
        );
        assert_eq!(
            of("sts:GetCallerIdentity", None, "ExpiredToken"),
            Some(Remedy::LogInAgain)
        );
        assert_eq!(
            of(
                "logs:DescribeLogGroups",
                Some("me-south-1"),
                "UnrecognizedClientException"
            ),
            Some(Remedy::EnableRegion {
                region: "me-south-1".into()
            })
        );
        assert_eq!(
            of(
                "logs:DescribeLogGroups",
                Some("eu-west-1"),
                "UnrecognizedClientException"
            ),
            Some(Remedy::CheckCredentials)
        );
        assert_eq!(
            of("ec2:DescribeInstances", Some("eu-west-1"), DISPATCH_FAILURE),
            Some(Remedy::CheckNetwork)
        );
        assert_eq!(
            of("ec2:DeleteSecurityGroup", None, "DependencyViolation"),
            None
        );
    }
}
