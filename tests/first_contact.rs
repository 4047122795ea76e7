//! First contact with an account (issue 19): the failures of a first run — no
//! credentials, an expired SSO session, an endpoint that does not answer, a user
//! without some of decom's permissions — each said in a short, stable message with a
//! hint, never the SDK's debug output; `decom doctor` and `decom init`.
//!
//! The permission tests run against moto with IAM enforcement on
//! (`decom_testing::enforcing`): a user whose policy allows decom's read-only policy
//! but three of its actions.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use decom::session::SessionError;
use decom_aws::permissions::{PERMISSIONS, Policy};
use decom_provider::ProviderError;
use decom_testing::account::{MotoAccount, Run, provider_block};
use decom_testing::{REGION, unreachable_endpoint};

use crate::util::{DecomOnMoto, decom_binary};

/// The three read actions the restricted user lacks: a call EC2 makes beside
/// another (`DescribeSecurityGroups`), a global IAM listing, and a JSON-protocol
/// service, whose refusal moto answers in XML.
const DENIED: [&str; 3] = [
    "ec2:DescribeSecurityGroupRules",
    "iam:ListInstanceProfiles",
    "logs:DescribeLogGroups",
];

/// Every action of the read-only policy of docs/aws.md but `except`.
fn read_only_policy_but(except: &[&str]) -> Vec<&'static str> {
    PERMISSIONS
        .iter()
        .filter(|p| p.need.policy() == Policy::ReadOnly)
        .map(|p| p.action)
        .filter(|a| !except.contains(a))
        .collect()
}

/// A spec that reaches every type in the test region.
fn everything_spec(moto: &MotoAccount) -> String {
    let spec = format!(
        "{}\ndecommission \"web\" {{\n  absent \"*\" {{ tags = {{ Service = \"web\" }} }}\n}}\n",
        provider_block(&moto.account)
    );
    moto.write_spec("spec", &spec).display().to_string()
}

/// Fails when `text` holds a Rust debug struct (`Error { code: …`,
/// `DispatchFailure(DispatchFailure { …`), the way the SDK's errors print.
fn assert_no_debug_struct(what: &str, text: &str) {
    let debug = regex::Regex::new(
        r"[A-Z][A-Za-z]*\s\{\s*[a-z_]+:|[A-Z][A-Za-z]*\([A-Z][A-Za-z]*(\s\{|\()|HeaderValue|SdkBody",
    )
    .expect("regex");
    assert!(
        !debug.is_match(text),
        "{what} holds a debug struct:\n{text}"
    );
}

/// Masks what differs between runs: request ids, ports, the test's directory.
fn settings(dir: Option<&Path>) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\(request id [^)]+\)", "(request id [ID])");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    if let Some(dir) = dir {
        settings.add_filter(&regex::escape(&dir.display().to_string()), "[TEMP]");
    }
    settings
}

/// A run as its snapshot shows it: the command, exit code, stdout and stderr.
fn transcript(run: &Run) -> String {
    format!(
        "$ {}\nexit_code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
        run.command,
        run.output.status.code().unwrap_or(-1),
        run.stdout(),
        run.stderr()
    )
}

/// The actions the error names as refused: the `… failed in …: AccessDenied` lines.
fn refused_actions(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter(|l| l.contains(": AccessDenied:"))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn expected_denials() -> BTreeSet<String> {
    DENIED.iter().map(|a| a.to_string()).collect()
}

#[test]
fn a_user_without_three_read_actions_gets_one_error_naming_exactly_those() {
    let moto = MotoAccount::restricted(
        "a_user_without_three_read_actions_gets_one_error_naming_exactly_those",
        &read_only_policy_but(&DENIED),
    );
    let spec = everything_spec(&moto);
    let plan = moto.decom(&["plan", &spec]);
    plan.expect_code(1, "discovery is refused");
    let stderr = plan.stderr();
    assert_eq!(refused_actions(&stderr), expected_denials(), "{stderr}");
    assert_eq!(
        stderr.matches("Error:").count(),
        1,
        "one error for all three:\n{stderr}"
    );
    assert!(
        stderr.contains(
            "hint: the credentials need `ec2:DescribeSecurityGroupRules`, `iam:ListInstanceProfiles` and `logs:DescribeLogGroups`, which are in the read-only policy (`DecomDiscover`) in docs/aws.md"
        ),
        "{stderr}"
    );
    assert!(plan.stdout().is_empty(), "no plan: {}", plan.stdout());
    assert_no_debug_struct("plan's stderr", &stderr);
    settings(Some(moto.dir.path())).bind(|| {
        insta::assert_snapshot!("plan-three-missing-permissions", transcript(&plan));
    });

    // audit reads the whole account the same way, and fails the same way.
    let audit = moto.decom(&["audit", "--region", REGION]);
    audit.expect_code(1, "discovery is refused");
    assert_eq!(refused_actions(&audit.stderr()), expected_denials());
    assert_no_debug_struct("audit's stderr", &audit.stderr());

    // -v adds each call's full error chain, still without a debug struct.
    let verbose = moto.decom(&["plan", &spec, "-v"]);
    verbose.expect_code(1, "discovery is refused");
    let stderr = verbose.stderr();
    assert!(
        stderr.contains("caused by: HTTP status 403"),
        "the chain is shown:\n{stderr}"
    );
    assert_no_debug_struct("plan -v's stderr", &stderr);
}

/// The doctor's table: (action, needed by, region, result) per row.
fn table_rows(stdout: &str) -> Vec<[String; 4]> {
    let columns = regex::Regex::new(r"\s{2,}").expect("regex");
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("ACTION"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let cells: Vec<&str> = columns.splitn(l, 4).collect();
            assert_eq!(cells.len(), 4, "a row of four cells: {l}");
            [cells[0], cells[1], cells[2], cells[3]].map(str::to_string)
        })
        .collect()
}

#[test]
fn doctor_shows_the_missing_actions_denied_and_the_rest_allowed() {
    let moto = MotoAccount::restricted(
        "doctor_shows_the_missing_actions_denied_and_the_rest_allowed",
        &read_only_policy_but(&DENIED),
    );
    let spec = everything_spec(&moto);
    let doctor = moto.decom(&["doctor", &spec]);
    doctor.expect_code(1, "permissions are missing");
    let stdout = doctor.stdout();
    let rows = table_rows(&stdout);
    assert_eq!(
        rows.len(),
        PERMISSIONS.len(),
        "one row per action:\n{stdout}"
    );
    let denied: BTreeSet<String> = rows
        .iter()
        .filter(|r| r[3].starts_with("denied"))
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(denied, expected_denials(), "{stdout}");
    for row in &rows {
        let need = PERMISSIONS
            .iter()
            .find(|p| p.action == row[0])
            .map(|p| p.need)
            .unwrap_or_else(|| panic!("{} is decom's", row[0]));
        let expected = match need {
            _ if need.changes_the_account() => "not checked",
            _ if DENIED.contains(&row[0].as_str()) => "denied (AccessDenied)",
            _ => "allowed",
        };
        assert_eq!(row[3], expected, "{row:?}\n{stdout}");
    }
    assert!(
        stdout.contains(
            "Not checked: 72 permission(s) of apply and restore: checking them needs `iam:SimulatePrincipalPolicy`"
        ),
        "{stdout}"
    );
    assert!(doctor.stderr().is_empty(), "{}", doctor.stderr());
    assert_no_debug_struct("doctor's stdout", &stdout);
    settings(Some(moto.dir.path())).bind(|| {
        insta::assert_snapshot!("doctor-three-missing-permissions", transcript(&doctor));
    });
}

/// The read-only policy of docs/aws.md is enough: plan and audit work, and the
/// doctor says so.
#[test]
fn the_read_only_policy_is_enough_to_plan_and_audit() {
    let moto = MotoAccount::restricted(
        "the_read_only_policy_is_enough_to_plan_and_audit",
        &read_only_policy_but(&[]),
    );
    let spec = everything_spec(&moto);
    moto.decom(&["plan", &spec])
        .expect_code(0, "every read is allowed");
    moto.decom(&["audit", "--region", REGION])
        .expect_code(0, "every read is allowed");
    let doctor = moto.decom(&["doctor", &spec]);
    doctor.expect_code(0, "ready");
    assert!(
        doctor
            .stdout()
            .contains("Ready: decom can discover, plan and audit this account."),
        "{}",
        doctor.stdout()
    );
}

/// `decom` run with nothing of the environment but `env`: no credentials, no
/// profile, no instance metadata unless given.
fn offline(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let nowhere = dir.join("no-aws-config");
    let output = Command::new(decom_binary())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", &nowhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", REGION)
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("decom runs");
    Run {
        command: format!("decom {}", args.join(" ")),
        output,
    }
}

/// A spec with a provider block, in `dir`.
fn spec_in(dir: &Path) -> String {
    let spec = dir.join("spec");
    std::fs::create_dir_all(&spec).expect("spec dir");
    std::fs::write(
        spec.join("main.hcl"),
        format!(
            "{}\ndecommission \"web\" {{\n  absent \"*\" {{ tags = {{ Service = \"web\" }} }}\n}}\n",
            provider_block("123456789012")
        ),
    )
    .expect("spec");
    "spec".to_string()
}

#[test]
fn no_credentials_list_the_ways_to_give_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec_in(dir.path());
    for (name, args) in [
        ("no-credentials-plan", vec!["plan", spec.as_str()]),
        ("no-credentials-doctor", vec!["doctor"]),
    ] {
        let run = offline(dir.path(), &args, &[]);
        run.expect_code(1, "no credentials");
        let stderr = run.stderr();
        assert!(stderr.contains("NoCredentials"), "{stderr}");
        for way in [
            "AWS_PROFILE",
            "aws sso login",
            "AWS_ACCESS_KEY_ID",
            "instance",
        ] {
            assert!(stderr.contains(way), "the hint names {way}:\n{stderr}");
        }
        assert_no_debug_struct(name, &stderr);
        settings(Some(dir.path())).bind(|| insta::assert_snapshot!(name, transcript(&run)));
    }
}

#[test]
fn an_expired_sso_session_says_aws_sso_login() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec_in(dir.path());
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile corp-admin]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
    )
    .expect("config");
    // The SDK's token cache for the session `corp`: ~/.aws/sso/cache/<sha1("corp")>.json,
    // expired and without a refresh token.
    let cache = dir.path().join("home/.aws/sso/cache");
    std::fs::create_dir_all(&cache).expect("cache dir");
    std::fs::write(
        cache.join("ee0bfd2552fbd840c02cc48b6e823320543c450f.json"),
        r#"{"accessToken":"expired","expiresAt":"2020-01-01T00:00:00Z","region":"eu-west-1","startUrl":"https://corp.awsapps.com/start"}"#,
    )
    .expect("cached token");
    let config = config.display().to_string();
    let run = offline(
        dir.path(),
        &["plan", &spec],
        &[("AWS_CONFIG_FILE", &config), ("AWS_PROFILE", "corp-admin")],
    );
    run.expect_code(1, "the session has expired");
    let stderr = run.stderr();
    assert!(stderr.contains("ExpiredToken"), "{stderr}");
    assert!(
        stderr.contains("hint: the session has expired: run `aws sso login`"),
        "{stderr}"
    );
    assert_no_debug_struct("stderr", &stderr);
    settings(Some(dir.path()))
        .bind(|| insta::assert_snapshot!("expired-sso-session", transcript(&run)));
}

#[test]
fn an_unreachable_endpoint_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec_in(dir.path());
    let endpoint = unreachable_endpoint();
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
    ];
    let run = offline(dir.path(), &["plan", &spec], &env);
    run.expect_code(1, "nothing answers");
    let stderr = run.stderr();
    assert!(
        stderr.contains(&format!("DispatchFailure: cannot reach {endpoint}")),
        "the endpoint is named:\n{stderr}"
    );
    assert!(
        !stderr.contains("caused by"),
        "no chain without -v:\n{stderr}"
    );
    assert_no_debug_struct("stderr", &stderr);
    settings(Some(dir.path()))
        .bind(|| insta::assert_snapshot!("unreachable-endpoint", transcript(&run)));

    // The chain with -v, or with RUST_LOG set.
    for (args, env) in [
        (vec!["plan", spec.as_str(), "-v"], env.to_vec()),
        (
            vec!["plan", spec.as_str()],
            [&env[..], &[("RUST_LOG", "info")]].concat(),
        ),
    ] {
        let run = offline(dir.path(), &args, &env);
        let stderr = run.stderr();
        assert!(
            stderr.contains(
                "sts:GetCallerIdentity failed in eu-west-1:\n    caused by: dispatch failure"
            ),
            "{args:?}:\n{stderr}"
        );
        assert_no_debug_struct("stderr with -v", &stderr);
    }
}

/// The messages of the failures no test server produces, as `decom` prints them.
#[test]
fn every_kind_of_failure_reads_as_a_short_message_with_its_hint() {
    let error = |op: &str, region: Option<&str>, code: &str, message: &str| {
        let mut e = ProviderError::new(op, region, code, message);
        e.detail_mut().request_id = Some("0a1b2c3d-example".to_string());
        e
    };
    let mut denied = error(
        "elasticloadbalancing:DescribeTargetGroups",
        Some("us-east-1"),
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: elasticloadbalancing:DescribeTargetGroups",
    );
    denied.detail_mut().also_denied = vec![error(
        "iam:GetAccountAuthorizationDetails",
        None,
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: iam:GetAccountAuthorizationDetails",
    )];
    let cases = [
        SessionError::Identity(error(
            "sts:GetCallerIdentity",
            Some("eu-west-1"),
            "ExpiredToken",
            "The security token included in the request is expired",
        )),
        SessionError::Identity(error(
            "sts:GetCallerIdentity",
            Some("eu-west-1"),
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )),
        SessionError::Identity(error(
            "sts:AssumeRole",
            Some("eu-west-1"),
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/decom",
        )),
        SessionError::Discovery(error(
            "ec2:DescribeSecurityGroups",
            Some("me-south-1"),
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
        )),
        SessionError::Discovery(error(
            "logs:DescribeLogGroups",
            Some("eu-west-1"),
            "ThrottlingException",
            "Rate exceeded",
        )),
        SessionError::Discovery(denied),
    ];
    let messages: Vec<String> = cases.iter().map(|e| format!("Error: {e}")).collect();
    let messages = messages.join("\n\n");
    assert_no_debug_struct("the messages", &messages);
    insta::assert_snapshot!("failure-messages", messages);
}

#[test]
fn init_writes_a_guarded_spec_for_the_callers_account_and_region() {
    let moto = MotoAccount::new("init_writes_a_guarded_spec_for_the_callers_account_and_region");
    let init = moto.decom(&["init", "retire-web", "--tag", "Service=web"]);
    init.expect_code(0, "the spec is written");
    let path = moto.path("retire-web/main.hcl");
    let text = std::fs::read_to_string(&path).expect("main.hcl");
    assert!(
        text.contains(&format!("allowed_account_ids = [\"{}\"]", moto.account)),
        "{text}"
    );
    assert!(
        text.contains(&format!("regions = [\"{REGION}\"]")),
        "{text}"
    );
    assert!(
        init.stderr().contains(
            "Review it, then see what decom would delete (read-only): decom plan retire-web"
        ),
        "{}",
        init.stderr()
    );
    let mut settings = settings(Some(moto.dir.path()));
    settings.add_filter(&moto.account, "[ACCOUNT]");
    settings.bind(|| insta::assert_snapshot!("init-main-hcl", text));

    moto.decom(&["plan", "retire-web"])
        .expect_code(0, "the new spec plans against the account");
    let again = moto.decom(&["init", "retire-web", "--name-prefix", "web"]);
    again.expect_code(1, "an existing spec is kept");
    assert!(
        again.stderr().contains("hint: pass --force"),
        "{}",
        again.stderr()
    );
    moto.decom(&["init", "retire-web", "-name-prefix", "web", "-force"])
        .expect_code(0, "--force overwrites");
    let text = std::fs::read_to_string(&path).expect("main.hcl");
    assert!(
        text.contains("absent \"*\" { name_prefix = \"web\" }"),
        "{text}"
    );
}
