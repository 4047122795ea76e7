//! The `decom` binary against moto (issue 3): real resources made with the SDK,
//! then `discover`, `plan` and `apply` through the CLI, and the effects checked
//! through the SDK. Each test works in its own moto account
//! (`decom_testing::account`).

use std::collections::BTreeSet;
use std::time::Instant;

use decom_testing::account::{MotoAccount, provider_block, read_json};
use decom_testing::stack::{self, Key};
use decom_testing::{REGION, unreachable_endpoint};

use crate::util::DecomOnMoto;

/// Selects the web stack by tag (and its log groups by name too) and keeps the
/// neighbour, whose `/ecs/web-shared` log group also matches the name prefix.
pub(crate) fn web_spec(allowed_account: &str) -> String {
    web_spec_with(&provider_block(allowed_account))
}

fn web_spec_with(provider: &str) -> String {
    format!(
        r#"{provider}
decommission "web" {{
  description = "Retire the web stack"

  absent "*"                        {{ tags = {{ stack = "web" }} }}
  absent "aws_cloudwatch_log_group" {{ name_prefix = "/ecs/web" }}
  keep "*"                          {{ tags = {{ stack = "neighbour" }} }}

  orphans = "fail"

  allow {{
    # moto reports every registered target as healthy, so the blue target group
    # always looks live; without this opt-in the planner blocks it.
    delete_live_traffic = true
  }}
}}
"#,
    )
}

/// The (type, id) of every resource the plan destroys.
fn destroyed(plan: &serde_json::Value) -> BTreeSet<Key> {
    plan["steps"]
        .as_array()
        .expect("plan steps")
        .iter()
        .filter(|s| s["change"] == "destroy")
        .map(|s| {
            (
                s["type"].as_str().expect("type").to_string(),
                s["id"].as_str().expect("id").to_string(),
            )
        })
        .collect()
}

fn eprint_elapsed(test: &str, what: &str, since: Instant) {
    eprintln!("{test}: {what} after {:.1?}", since.elapsed());
}

#[test]
fn discover_plan_apply_deletes_exactly_the_planned_stack() {
    let test = "discover_plan_apply_deletes_exactly_the_planned_stack";
    let started = Instant::now();
    let moto = MotoAccount::new(test);
    let sdk = moto.sdk();
    let stacks = moto.block_on(stack::build(&sdk));
    let before = moto.block_on(stack::census(&sdk));
    let neighbour_before = moto.block_on(stack::neighbour_details(&sdk, &stacks.neighbour));
    for key in stacks.web_keys().iter().chain(&stacks.neighbour_keys()) {
        assert!(before.contains(key), "the fixture made {key:?}");
    }
    eprint_elapsed(test, "fixtures built", started);

    let spec = moto.write_spec("spec", &web_spec(&moto.account));
    let spec = spec.to_str().expect("utf-8 path");

    // discover: a snapshot of the account that holds the stack.
    moto.decom(&["discover", spec, "-o", "snap.json", "--region", REGION])
        .expect_code(0, "discovery succeeds");
    let snapshot = read_json(&moto.path("snap.json"));
    assert_eq!(
        snapshot["account_id"],
        moto.account.as_str(),
        "snapshot of the test's account"
    );
    let snapshot_keys: BTreeSet<Key> = snapshot["resources"]
        .as_array()
        .expect("snapshot resources")
        .iter()
        .map(|r| {
            (
                r["type"].as_str().expect("type").to_string(),
                r["id"].as_str().expect("id").to_string(),
            )
        })
        .collect();
    let missing: Vec<_> = stacks
        .web_keys()
        .union(&stacks.neighbour_keys())
        .filter(|k| !snapshot_keys.contains(*k))
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "the snapshot should hold both stacks; missing {missing:?}"
    );
    moto.decom(&["validate", spec, "--inventory", "snap.json"])
        .expect_code(0, "the spec is valid and the snapshot loads");
    eprint_elapsed(test, "discovered", started);

    // plan, with the API-call statistics: IAM is discovered once.
    let plan = moto.decom(&[
        "plan",
        spec,
        "-out",
        "p.plan",
        "-detailed-exitcode",
        "--stats",
    ]);
    plan.expect_code(2, "changes present with -detailed-exitcode");
    let stderr = plan.stderr();
    let authorization_details: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_end().ends_with("iam:GetAccountAuthorizationDetails"))
        .collect();
    assert_eq!(
        authorization_details.len(),
        1,
        "--stats should list iam:GetAccountAuthorizationDetails once:\n{stderr}"
    );
    assert_eq!(
        authorization_details[0].split_whitespace().next(),
        Some("1"),
        "IAM should be discovered with one GetAccountAuthorizationDetails call:\n{stderr}"
    );
    let shown = moto.decom(&["show", "p.plan", "-json"]);
    shown.expect_code(0, "show renders the saved plan");
    let plan_json: serde_json::Value =
        serde_json::from_str(&shown.stdout()).expect("show -json prints JSON");
    assert_eq!(plan_json["applyable"], true, "plan:\n{}", plan.stdout());
    let planned = destroyed(&plan_json);
    let web = stacks.web_keys();
    let unplanned: Vec<_> = web.difference(&planned).collect();
    assert!(
        unplanned.is_empty(),
        "every web resource should be planned; not planned: {unplanned:?}\n{}",
        plan.stdout()
    );
    // Beyond the stack, only the instances' own interfaces and root volumes (deleted
    // on termination).
    let extra: Vec<_> = planned
        .difference(&web)
        .filter(|(kind, _)| kind != "aws_network_interface" && kind != "aws_ebs_volume")
        .collect();
    assert!(
        extra.is_empty(),
        "only the web stack should be planned; also planned: {extra:?}"
    );
    let touched_neighbour: Vec<_> = plan_json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| {
            let key = (
                s["type"].as_str().unwrap_or_default().to_string(),
                s["id"].as_str().unwrap_or_default().to_string(),
            );
            stacks.neighbour_keys().contains(&key)
        })
        .collect();
    assert!(
        touched_neighbour.is_empty(),
        "no step should touch the neighbour: {touched_neighbour:#?}"
    );
    eprint_elapsed(test, "planned", started);

    // apply the saved plan.
    let apply = moto.decom(&["apply", "p.plan", "-auto-approve"]);
    apply.expect_code(0, "the plan applies");
    assert!(
        apply.stderr().contains("Apply complete"),
        "{}",
        apply.stderr()
    );
    let report = apply
        .stderr()
        .lines()
        .find_map(|l| l.strip_prefix("Report: "))
        .map(|p| moto.path(p))
        .expect("apply names its report");
    assert!(
        report.exists(),
        "the report {} should be written",
        report.display()
    );
    eprint_elapsed(test, "applied", started);

    // Exactly the planned resources are gone; the neighbour is intact.
    let after = moto.block_on(stack::census(&sdk));
    let expected: BTreeSet<Key> = before.difference(&planned).cloned().collect();
    let survivors: Vec<_> = after.intersection(&planned).collect();
    assert!(
        survivors.is_empty(),
        "planned resources should be gone; still there: {survivors:?}"
    );
    let lost: Vec<_> = expected.difference(&after).collect();
    assert!(
        lost.is_empty(),
        "unplanned resources should survive; gone: {lost:?}"
    );
    let appeared: Vec<_> = after.difference(&before).collect();
    assert!(
        appeared.is_empty(),
        "apply should create nothing; new: {appeared:?}"
    );
    let neighbour_after = moto.block_on(stack::neighbour_details(&sdk, &stacks.neighbour));
    assert_eq!(
        neighbour_after, neighbour_before,
        "the neighbour's rules, policies, profile, targets and instance are unchanged"
    );
    eprint_elapsed(test, "checked", started);
}

#[test]
fn a_wrong_account_is_refused_before_discovery() {
    let test = "a_wrong_account_is_refused_before_discovery";
    let started = Instant::now();
    let moto = MotoAccount::new(test);
    let sdk = moto.sdk();
    moto.block_on(stack::build(&sdk));
    let before = moto.block_on(stack::census(&sdk));
    let spec = moto.write_spec("spec", &web_spec("999999999999"));
    let spec = spec.to_str().expect("utf-8 path");
    let refusal = format!("refusing to work on account {}", moto.account);

    // Only STS reaches moto: a discovery call would fail on the unreachable
    // endpoint with "discovery failed", not with the refusal.
    let nowhere = unreachable_endpoint();
    let plan = moto.decom_with(
        &["plan", spec],
        &[
            ("AWS_ENDPOINT_URL", nowhere.as_str()),
            ("AWS_ENDPOINT_URL_STS", moto.endpoint.as_str()),
        ],
    );
    plan.expect_code(1, "a wrong account is an error");
    let stderr = plan.stderr();
    assert!(
        stderr.contains(&refusal),
        "stderr should hold `{refusal}`:\n{stderr}"
    );
    assert!(
        stderr.contains("allowed_account_ids at main.hcl:3)")
            && stderr.contains("allows only 999999999999"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("discovery failed"),
        "nothing but STS is called:\n{stderr}"
    );
    assert!(
        plan.stdout().is_empty(),
        "no plan is printed: {}",
        plan.stdout()
    );

    // With every service reachable, apply is refused as well and changes nothing.
    let apply = moto.decom(&["apply", spec, "-auto-approve"]);
    apply.expect_code(1, "a wrong account is an error");
    assert!(apply.stderr().contains(&refusal), "{}", apply.stderr());
    let after = moto.block_on(stack::census(&sdk));
    assert_eq!(after, before, "moto's state is unchanged");
    eprint_elapsed(test, "done", started);
}

/// A spec without a provider block reaches whatever account the credentials do:
/// `plan` says there is no guard, `apply` refuses a live account without one, and
/// `--allowed-account-id` is a guard.
#[test]
fn apply_on_a_live_account_requires_an_account_guard() {
    let test = "apply_on_a_live_account_requires_an_account_guard";
    let started = Instant::now();
    let moto = MotoAccount::new(test);
    let sdk = moto.sdk();
    let stacks = moto.block_on(stack::build(&sdk));
    let spec = moto.write_spec("spec", &web_spec_with(""));
    let spec = spec.to_str().expect("utf-8 path");
    let before = moto.block_on(stack::census(&sdk));

    let plan = moto.decom(&["plan", spec, "-json", "-out", "p.plan"]);
    plan.expect_code(0, "an unguarded plan is made");
    assert!(
        plan.stderr().contains("warning: no account guard"),
        "{}",
        plan.stderr()
    );
    let json: serde_json::Value = serde_json::from_str(&plan.stdout()).expect("plan json");
    assert!(
        json["warnings"].to_string().contains("no account guard"),
        "the plan says it too: {}",
        json["warnings"]
    );

    let refusal = "without an account guard";
    for args in [
        &["apply", spec, "-auto-approve"][..],
        &["apply", "p.plan"][..],
    ] {
        let apply = moto.decom(args);
        apply.expect_code(1, "no guard, no apply");
        assert!(
            apply.stderr().contains(refusal),
            "{args:?}: {}",
            apply.stderr()
        );
    }
    let apply = moto.decom(&["apply", "p.plan", "--allowed-account-id", "999999999999"]);
    apply.expect_code(1, "another account");
    assert!(
        apply
            .stderr()
            .contains("--allowed-account-id allows only 999999999999"),
        "{}",
        apply.stderr()
    );
    assert_eq!(
        moto.block_on(stack::census(&sdk)),
        before,
        "nothing was deleted"
    );

    moto.decom(&["apply", "p.plan", "--allowed-account-id", &moto.account])
        .expect_code(0, "guarded by the flag");
    let after = moto.block_on(stack::census(&sdk));
    assert!(
        stacks.web_keys().iter().all(|k| !after.contains(k)),
        "the web stack is gone"
    );
    eprint_elapsed(test, "done", started);
}

#[test]
fn a_new_dependent_makes_a_saved_plan_stale() {
    let test = "a_new_dependent_makes_a_saved_plan_stale";
    let started = Instant::now();
    let moto = MotoAccount::new(test);
    let sdk = moto.sdk();
    let stacks = moto.block_on(stack::build(&sdk));
    let spec = moto.write_spec("spec", &web_spec(&moto.account));
    let spec = spec.to_str().expect("utf-8 path");
    moto.decom(&["plan", spec, "-out", "p.plan", "-detailed-exitcode"])
        .expect_code(2, "changes present with -detailed-exitcode");

    // Someone attaches a new interface to the app group after the plan was made.
    let eni = moto.block_on(async {
        sdk.ec2
            .create_network_interface()
            .subnet_id(&stacks.subnets[1])
            .groups(&stacks.web.app_sg)
            .description("added after the plan")
            .send()
            .await
            .expect("create network interface")
            .network_interface
            .and_then(|n| n.network_interface_id)
            .expect("eni id")
    });
    let before = moto.block_on(stack::census(&sdk));

    let apply = moto.decom(&["apply", "p.plan", "-auto-approve"]);
    apply.expect_code(1, "a stale plan is refused");
    let stderr = apply.stderr();
    let expected = format!("new dependent: aws_network_interface.{eni}");
    assert!(
        stderr.contains(&expected),
        "stderr should list `{expected}`:\n{stderr}"
    );
    assert!(
        stderr.contains(&stacks.web.app_sg),
        "the dependent names the app group:\n{stderr}"
    );
    assert!(
        stderr.contains("refusing to apply a stale plan"),
        "{stderr}"
    );
    let after = moto.block_on(stack::census(&sdk));
    assert_eq!(after, before, "nothing was deleted");
    eprint_elapsed(test, "done", started);
}

/// A spec that reaches its account with `assume_role`: the saved plan records the
/// role, so `apply FILE` with the same base credentials works in the same account
/// (it used to reach the base account and refuse the plan as another account's).
#[test]
fn a_saved_plan_is_applied_through_the_role_it_was_planned_with() {
    let test = "a_saved_plan_is_applied_through_the_role_it_was_planned_with";
    let started = Instant::now();
    let moto = MotoAccount::new(test);
    let sdk = moto.sdk();
    let stacks = moto.block_on(stack::build(&sdk));
    let provider = provider_block(&moto.account).replace(
        "}\n",
        &format!(
            "  assume_role {{\n    role_arn = \"arn:aws:iam::{}:role/decom\"\n  }}\n}}\n",
            moto.account
        ),
    );
    let spec = moto.write_spec("spec", &web_spec_with(&provider));
    let spec = spec.to_str().expect("utf-8 path");
    moto.decom_with_base_credentials(&["plan", spec, "-out", "p.plan", "-detailed-exitcode"])
        .expect_code(2, "the role reaches the allowed account; changes present");
    let apply = moto.decom_with_base_credentials(&["apply", "p.plan", "-auto-approve"]);
    apply.expect_code(
        0,
        "apply reaches the plan's account through the recorded role",
    );
    let after = moto.block_on(stack::census(&sdk));
    let survivors: Vec<_> = stacks
        .web_keys()
        .into_iter()
        .filter(|k| after.contains(k))
        .collect();
    assert!(
        survivors.is_empty(),
        "the web stack should be gone; still there: {survivors:?}"
    );
    let lost: Vec<_> = stacks
        .neighbour_keys()
        .into_iter()
        .filter(|k| !after.contains(k))
        .collect();
    assert!(lost.is_empty(), "the neighbour should stay; gone: {lost:?}");
    eprint_elapsed(test, "done", started);
}

/// `decom audit` of a live account (issue 5): standing orphans made with the SDK
/// beside the two in-use stacks, a Terraform state (format version 4) written by the
/// test that manages one orphan and names a group that no longer exists.
#[test]
fn audit_of_a_live_account_marks_what_terraform_manages() {
    let moto = MotoAccount::new("audit_of_a_live_account_marks_what_terraform_manages");
    let sdk = moto.sdk();
    let stacks = moto.block_on(stack::build(&sdk));
    let (orphan_sg, orphan_tg, orphan_policy) = moto.block_on(async {
        let vpcs = sdk.ec2.describe_vpcs().send().await.expect("vpcs");
        let vpc = vpcs.vpcs()[0].vpc_id().expect("vpc id").to_string();
        let sg = sdk
            .ec2
            .create_security_group()
            .group_name("orphan-sg")
            .description("nothing uses it")
            .vpc_id(&vpc)
            .send()
            .await
            .expect("security group")
            .group_id()
            .expect("group id")
            .to_string();
        let tg = sdk
            .elbv2
            .create_target_group()
            .name("orphan-tg")
            .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
            .port(80)
            .vpc_id(&vpc)
            .send()
            .await
            .expect("target group")
            .target_groups()[0]
            .target_group_arn()
            .expect("arn")
            .to_string();
        let policy = sdk
            .iam
            .create_policy()
            .policy_name("orphan-policy")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#)
            .send()
            .await
            .expect("policy")
            .policy()
            .and_then(|p| p.arn())
            .expect("arn")
            .to_string();
        (sg, tg, policy)
    });
    let provider = r#"provider["registry.terraform.io/hashicorp/aws"]"#;
    let state = serde_json::json!({
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 7,
        "lineage": "3f1e2d4c-0000-4000-8000-000000000001",
        "outputs": {},
        "resources": [
            {"mode": "managed", "type": "aws_security_group", "name": "orphan", "provider": provider,
             "instances": [{"schema_version": 1, "attributes": {"id": orphan_sg, "name": "orphan-sg"}}]},
            {"mode": "managed", "type": "aws_security_group", "name": "gone", "provider": provider,
             "instances": [{"schema_version": 1, "attributes": {"id": "sg-0123456789abcdef0"}}]},
        ],
    });
    let state_path = moto.path("prod.tfstate");
    std::fs::write(
        &state_path,
        serde_json::to_string_pretty(&state).expect("json"),
    )
    .expect("write state");
    let state_arg = state_path.to_str().expect("utf-8 path");

    let run = moto.decom(&[
        "audit",
        "--region",
        REGION,
        "--tfstate",
        state_arg,
        "-json",
        "-detailed-exitcode",
    ]);
    run.expect_code(2, "findings with -detailed-exitcode");
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).expect("audit JSON");
    assert_eq!(report["account_id"], moto.account.as_str());
    let findings = report["findings"].as_array().expect("findings");
    let status_of = |id: &str| {
        findings.iter().find(|f| f["id"] == id).map(|f| {
            f["terraform"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
    };
    assert_eq!(
        status_of(&orphan_tg).as_deref(),
        Some("unmanaged"),
        "{}",
        run.stdout()
    );
    assert_eq!(
        status_of(&orphan_policy).as_deref(),
        Some("unmanaged"),
        "{}",
        run.stdout()
    );
    assert_eq!(
        status_of(&orphan_sg),
        None,
        "managed findings are counted, not listed, by default"
    );
    assert!(
        report["summary"]["managed_not_listed"]
            .as_u64()
            .unwrap_or(0)
            >= 1
    );
    for used in [&stacks.web.app_sg, &stacks.neighbour.app_sg] {
        assert_eq!(status_of(used), None, "{used} is in use and is no finding");
    }
    let missing: Vec<&str> = report["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(
        missing,
        ["sg-0123456789abcdef0"],
        "the state entry with no live resource"
    );

    let run = moto.decom(&[
        "audit",
        "--region",
        REGION,
        "--tfstate",
        state_arg,
        "--include-managed",
        "-json",
    ]);
    run.expect_code(0, "findings without -detailed-exitcode");
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).expect("audit JSON");
    let managed = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == orphan_sg.as_str())
        .expect("the managed orphan is listed with --include-managed");
    assert_eq!(managed["terraform"]["status"], "managed");
    assert_eq!(managed["terraform"]["address"], "aws_security_group.orphan");
    assert_eq!(managed["kind"], "unused_security_group");
}

/// Scoped discovery (issue 15): `plan` on the live account reads the listings and
/// only the per-resource facts its plan's closure needs; its plan equals, byte for
/// byte, the plan made from a full snapshot of the same account.
#[test]
fn scoped_plan_equals_the_full_plan_on_moto() {
    let test = "scoped_plan_equals_the_full_plan_on_moto";
    let moto = MotoAccount::new(test);
    let sdk = moto.sdk();
    moto.block_on(stack::build(&sdk));
    let by_tag = moto.write_spec("by-tag", &web_spec(&moto.account));
    let by_name = moto.write_spec(
        "by-name",
        &format!(
            r#"{}
decommission "web" {{
  absent "*"                        {{ name_prefix = "web-" }}
  absent "aws_cloudwatch_log_group" {{ name_prefix = "/ecs/web" }}
  orphans = "report"
  allow {{
    delete_live_traffic = true
  }}
}}
"#,
            provider_block(&moto.account)
        ),
    );
    for spec in [&by_tag, &by_name] {
        let spec = spec.to_str().expect("utf-8 path");
        moto.decom(&["discover", spec, "-o", "snap.json", "--region", REGION])
            .expect_code(0, "discovery succeeds");
        let full = moto.decom(&["plan", spec, "-json", "--inventory", "snap.json"]);
        let scoped = moto.decom(&["plan", spec, "-json"]);
        assert_eq!(
            scoped.output.status.code(),
            full.output.status.code(),
            "{}\n{}",
            scoped.stderr(),
            full.stderr()
        );
        assert!(scoped.stdout().contains("\"steps\""), "{}", scoped.stdout());
        assert_eq!(
            scoped.stdout(),
            full.stdout(),
            "{spec}: the scoped plan differs from the full one"
        );
    }
}
